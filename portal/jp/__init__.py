"""Japanese data helpers: kana and widths, postal codes, phone numbers, bank
accounts, business days and the co-op calendar, yen amounts.

Pure Python: no Flask, no database. Submodules are imported on demand
(``from portal.jp import postal``); ``bank`` loads the zengin-code tables on
first import (about 0.2 s).
"""
from __future__ import annotations

from .errors import JpValueError

__all__ = ["JpValueError"]
