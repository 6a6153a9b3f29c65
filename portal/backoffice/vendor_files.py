"""Files exchanged with outside partners: the print vendor's shipping CSV for
共済契約証書 (imported all or nothing) and the kit orders for the fulfilment partner."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit
from portal.backoffice.models import WorkHold
from portal.backoffice.services import WorkError
from portal.contracts import shipping
from portal.contracts.models import Contract
from portal.csvexport import csv_text
from portal.jp.text import normalize
from portal.members.models import Member
from portal.procedures.models import ProcedureRequest
from portal.staff.models import StaffUser

MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_CSV_LINES = 10_000
DATE_RE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


@dataclass(frozen=True)
class LineProblem:
    line_no: int
    text: str
    message: str


@dataclass
class ShipmentImport:
    applied: list[tuple[int, str, str]] = field(default_factory=list)    # line, contract no, receipt no
    unchanged: list[tuple[int, str]] = field(default_factory=list)        # already recorded just so
    problems: list[LineProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Shift_JIS (cp932), as vendors' spreadsheets write."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise WorkError("CSVの文字コードを読み取れません（UTF-8かShift_JISで保存してください）。", field="file")


def _parse_date(text: str) -> date:
    match = DATE_RE.match(text)
    if not match:
        raise ValueError
    return date(int(match[1]), int(match[2]), int(match[3]))


def import_certificate_shipments(session: Session, data: bytes, staff: StaffUser) -> ShipmentImport:
    """Apply every line (contract number, shipped date, tracking number) or none.

    A line that does not match an open certificate, a bad date or number, a
    contract twice in the file, or a certificate another person holds is reported
    with its line number and nothing at all is changed. A line already recorded
    with the same date and number (the same file sent twice) changes nothing.
    """
    if not data:
        raise WorkError("CSVファイルを選んでください。", field="file")
    if len(data) > MAX_CSV_BYTES:
        raise WorkError("CSVファイルは2MBまでです。", field="file")
    rows = list(csv.reader(io.StringIO(decode(data))))
    if len(rows) > MAX_CSV_LINES:
        raise WorkError(f"CSVは{MAX_CSV_LINES:,}行までです。分けて取り込んでください。", field="file")
    report = ShipmentImport()
    planned: list[tuple[int, ProcedureRequest, date, str, str]] = []
    seen: dict[str, int] = {}
    for line_no, cells in enumerate(rows, start=1):
        cells = [normalize(c).strip() for c in cells]
        text = ",".join(cells)[:120]
        if not any(cells):
            continue
        if line_no == 1 and not cells[0].replace("-", "").isdigit():
            continue  # a header line
        if len(cells) != 3:
            report.problems.append(LineProblem(line_no, text, "列の数が3ではありません（証書番号,発送日,お問い合わせ番号）。"))
            continue
        number, shipped_text, tracking_text = cells
        number = number.replace("-", "")
        if number in seen:
            report.problems.append(LineProblem(line_no, text, f"同じ証書番号が{seen[number]}行目にもあります。"))
            continue
        seen[number] = line_no
        contract = session.scalar(select(Contract).where(Contract.contract_no == number)) if number.isdigit() else None
        if contract is None:
            report.problems.append(LineProblem(line_no, text, "この証書番号の契約はありません。"))
            continue
        try:
            shipped_on = _parse_date(shipped_text)
        except ValueError:
            report.problems.append(LineProblem(line_no, text, "発送日はYYYY-MM-DDの形で書いてください。"))
            continue
        try:
            tracking = shipping.clean_tracking_no(tracking_text)
        except shipping.ContractProcedureError as error:
            report.problems.append(LineProblem(line_no, text, error.message))
            continue
        request = shipping.open_certificate_request(session, contract)
        if request is None:
            if (contract.certificate_status == "shipped" and contract.certificate_shipped_on == shipped_on
                    and contract.certificate_tracking_no == tracking):
                report.unchanged.append((line_no, number))
            else:
                report.problems.append(LineProblem(line_no, text, "発送待ちの証書がありません（発送済みか、手続きがありません）。"))
            continue
        request = session.scalar(select(ProcedureRequest).where(ProcedureRequest.id == request.id)
                                 .with_for_update().execution_options(populate_existing=True))
        hold = session.get(WorkHold, request.id, populate_existing=True)
        if hold is not None and hold.staff_id != staff.id:
            report.problems.append(LineProblem(line_no, text, f"{hold.staff.name}さんが対応中です。"))
            continue
        try:
            shipping.check_shipped_on(shipped_on, request)
        except shipping.ContractProcedureError as error:
            report.problems.append(LineProblem(line_no, text, error.message))
            continue
        planned.append((line_no, request, shipped_on, tracking, number))
    if report.problems:
        return report  # nothing was changed
    for line_no, request, shipped_on, tracking, number in planned:
        shipping.mark_shipped(session, request, shipped_on, tracking)
        hold = session.get(WorkHold, request.id)
        if hold is not None:
            session.delete(hold)
        audit.record("backoffice.contract_certificate.csv_shipped", target_type="procedure",
                     target_id=request.receipt_no, member_id=request.member_id,
                     detail={"line": line_no, "tracking_no": tracking})
        report.applied.append((line_no, number, request.receipt_no))
    session.flush()
    audit.record("backoffice.certificate_csv_import", detail={"applied": len(report.applied),
                                                               "unchanged": len(report.unchanged)})
    return report


def certificates_waiting(session: Session) -> int:
    return len(list(session.scalars(select(ProcedureRequest.id).where(
        ProcedureRequest.kind == "contract_certificate",
        ProcedureRequest.status.in_(("received", "preparing_shipment"))))))


KIT_COLUMNS = ("注文番号", "商品コード", "商品名", "数量", "受診者氏名", "お届け先氏名", "郵便番号", "住所", "電話番号",
               "お支払日")


def kit_orders_csv(session: Session) -> tuple[str, int]:
    """Paid, unshipped kit orders for the fulfilment partner (UTF-8 with BOM, CRLF)."""
    from portal.clock import to_tokyo
    from portal.shop.services import orders_to_ship

    orders = orders_to_ship(session)
    members = {m.id: m for m in session.scalars(select(Member).where(
        Member.id.in_({o.member_id for o in orders})))} if orders else {}
    rows = [[order.order_no, order.sku, order.product_name, order.quantity, order.recipient_name,
             members[order.member_id].name,
             f"{members[order.member_id].postal_code[:3]}-{members[order.member_id].postal_code[3:]}",
             members[order.member_id].address, members[order.member_id].phone,
             to_tokyo(order.paid_at).date().isoformat() if order.paid_at else ""] for order in orders]
    audit.record("backoffice.kit_orders_csv", detail={"orders": len(orders)})
    return csv_text([KIT_COLUMNS, *rows]), len(orders)
