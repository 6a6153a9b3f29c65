"""The office work queue: every open procedure, its due date, who holds it, and its actions."""
