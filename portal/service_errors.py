"""The one shape of a refusal from a service: a Japanese message for the member
or staff user, and the form field it belongs to (None: the whole form).

Views catch ServiceError (or a feature's subclass) and call `show_on_form`, so
the message appears next to its field and everything else typed stays.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ServiceError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def errors(self) -> dict[str, str]:
        """Field → message; a feature with several field errors at once overrides it."""
        return {self.field: self.message} if self.field else {}


def show_on_form(form: Any, error: ServiceError, *, default: str | None = None,
                 rename: dict[str, str] | None = None) -> bool:
    """Put the error's messages next to their fields.

    A message without a field (or naming one the form lacks) goes on the
    `default` field when given. `rename` maps a service's field name to the form's
    (one choice shown as several checkboxes). Returns False when nothing could be
    placed: the caller then shows the message for the whole form.
    """
    messages = error.errors or ({default: error.message} if default else {})
    placed = False
    for name, message in messages.items():
        name = (rename or {}).get(name, name)
        target = getattr(form, name, None) if form is not None else None
        if target is None and default and name != default:
            target = getattr(form, default, None)
        if target is None or not hasattr(target, "errors"):
            continue
        target.errors = [*list(target.errors or []), message]
        placed = True
    return placed


def commit_or_flash(action: Callable[[], object], success: str) -> bool:
    """Run one service call as the request's whole transaction, for a view that
    redirects afterwards: commit and flash `success`, or roll back and flash the
    refusal. Returns whether the action went through."""
    from flask import flash

    from portal.extensions import db

    try:
        action()
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return False
    db.commit()
    flash(success, "success")
    return True
