"""The office work queue's plug-in interface, shared by every feature.

A feature describes the office work on its procedure kinds in
portal/<feature>/office.py with `kinds.register(OfficeKind(...))`; the staff
pages that list and act on the work are the backoffice feature's. Features
import this package, never portal.backoffice, so no feature depends on another
through the queue.
"""
