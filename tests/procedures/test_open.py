"""Which procedures are still open: a paid claim is finished, a paid kit order still waits for shipping."""
from sqlalchemy import select

from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest


def test_a_paid_claim_is_finished_and_a_paid_kit_order_is_not(db_session, make_member):
    member = make_member()
    claim = procedures.start(db_session, member, "claim", "入院の共済金", status="paid", notify=False)
    order = procedures.start(db_session, member, "shop_order", "健康チェックキット", status="paid", notify=False)
    db_session.flush()

    assert not claim.is_open and order.is_open
    open_ids = set(db_session.scalars(select(ProcedureRequest.id).where(
        ProcedureRequest.member_id == member.id, ProcedureRequest.is_open)))
    assert open_ids == {order.id}  # the SQL side agrees with the Python side


def test_a_paid_claim_is_not_listed_as_in_progress(member_client, db_session):
    member = member_client.member
    paid = procedures.start(db_session, member, "claim", "入院の共済金", status="paid", notify=False)
    waiting = procedures.start(db_session, member, "claim", "通院の共済金", status="checking_documents", notify=False)
    db_session.commit()
    html = member_client.get("/requests").get_data(as_text=True)
    pending = html.split('id="pending-title"', 1)[1].split("</section>", 1)[0]
    assert f"/requests/{waiting.receipt_no}" in pending
    assert f"/requests/{paid.receipt_no}" not in pending and f"/requests/{paid.receipt_no}" in html
