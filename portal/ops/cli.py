"""CLI of the operations package: run-jobs."""
from __future__ import annotations

from portal.ops.jobs import register

__all__ = ["register"]
