"""CSV downloads for staff: UTF-8 with a BOM (Excel opens it as UTF-8), CRLF
lines, and no cell a spreadsheet would run as a formula."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

# Spreadsheets also evaluate full-width ＝＋－＠ after their own NFKC-like folding.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas (OWASP CSV injection): text starting with
    = + - @ (half- or full-width), tab, CR or LF gets a leading apostrophe.
    Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """One CSV line per row, every cell made safe (for streaming responses)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """The whole file as one string, BOM first."""
    return "\ufeff" + "".join(csv_lines(rows))
