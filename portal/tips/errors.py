"""The tips feature's refusal, shared by editing and cover images."""
from __future__ import annotations

from portal.service_errors import ServiceError


class TipError(ServiceError):
    """A rule said no (a Japanese message, and the field it belongs to)."""
