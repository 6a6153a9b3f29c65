"""Uploads nobody sent.

A name-change document and a claim's files go to private storage as soon as the
member chooses them (the confirmation page says they arrived), before the
request is sent. A member who stops there leaves the file behind: identity
papers and medical receipts with no request to justify keeping them. After 24
hours such a file is removed. A file that belongs to a sent request (the
name-change procedure's detail, a ClaimFile row) is never touched, whatever its
age, and only the member-upload folders are looked at (payment-run files live
beside the claim files and are left alone).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.changes.services import DOCUMENT_KEY_PREFIX
from portal.claims.documents import PRIVATE_PREFIX as CLAIMS_PREFIX
from portal.claims.models import ClaimFile
from portal.gateways.storage import Storage
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest

ABANDONED_AFTER = timedelta(hours=24)


def _name_change_keys(session: Session) -> set[str]:
    keys = set()
    for request in session.scalars(select(ProcedureRequest).where(ProcedureRequest.kind == "name_change")):
        file = procedures.detail_of(request).get("file") or {}
        if file.get("key"):
            keys.add(file["key"])
    return keys


def _claim_keys(session: Session) -> set[str]:
    return set(session.scalars(select(ClaimFile.storage_key)))


@dataclass(frozen=True)
class UploadFolder:
    prefix: str
    member_upload: re.Pattern[str]    # which keys in the folder are members' uploads
    keys_in_use: Callable[[Session], set[str]]


FOLDERS = (
    UploadFolder(DOCUMENT_KEY_PREFIX, re.compile(rf"{re.escape(DOCUMENT_KEY_PREFIX)}[0-9a-f]{{32}}\.(jpg|pdf)"),
                 _name_change_keys),
    UploadFolder(CLAIMS_PREFIX + "/", re.compile(rf"{re.escape(CLAIMS_PREFIX)}/\d+/[0-9a-f]{{32}}\.(jpg|png|pdf)"),
                 _claim_keys),
)


def remove_abandoned_uploads(session: Session, store: Storage, now: datetime) -> list[str]:
    """Delete member uploads older than ABANDONED_AFTER that no sent request holds; returns their keys."""
    cutoff = now - ABANDONED_AFTER
    removed: list[str] = []
    for folder in FOLDERS:
        stale = [f.key for f in store.list(folder.prefix)
                 if f.modified_at < cutoff and folder.member_upload.fullmatch(f.key)]
        if not stale:
            continue
        # Read after listing: a request sent in between is seen and keeps its file.
        in_use = folder.keys_in_use(session)
        for key in stale:
            if key not in in_use:
                store.delete(key)
                removed.append(key)
    return removed
