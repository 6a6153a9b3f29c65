"""The one error type of portal.jp."""
from __future__ import annotations


class JpValueError(ValueError):
    """A value a member typed that cannot be accepted.

    ``message`` is Japanese and meant to be shown next to the form field, e.g.
    ``form.postal_code.errors.append(exc.message)``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
