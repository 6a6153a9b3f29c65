"""Demo data (`seed-demo`, idempotent) and bulk data for benchmarks (`seed-bulk`).

Every piece of made-up data lives in this package, none in a feature's services:
`household` (products, the demo household, the demo staff), `content` (tips,
voices, FAQ), `office_work` (open procedures for the office queue), `claims`
(demo claims and the claims staff) and `bulk` (benchmark members).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.seed.bulk import seed_bulk
from portal.seed.claims import seed_claims_demo, seed_claims_staff
from portal.seed.content import seed_demo_voices, seed_faq, seed_tips
from portal.seed.household import (DEMO_PASSWORD, STAFF_PASSWORD, STAFF_TOTP_SECRET, add_contract, add_payments,
                                   demo_member, ensure_products, seed_household, seed_staff)
from portal.seed.office_work import seed_office_staff, seed_office_work
from portal.staff.models import StaffUser

__all__ = ["DEMO_PASSWORD", "STAFF_PASSWORD", "STAFF_TOTP_SECRET", "add_contract", "add_payments",
           "ensure_products", "seed_bulk", "seed_demo", "seed_tips"]


def seed_demo(session: Session) -> bool:
    """Create the demo household, the signup demo member, the demo staff and what
    they have to work on. False if everything was there already."""
    products = ensure_products(session)
    created = seed_staff(session)
    created = bool(seed_tips(session)) or created
    created = seed_office_staff(session) or created
    created = bool(seed_faq(session)) or created
    created = seed_claims_staff(session) or created
    cs_staff = session.scalar(select(StaffUser).where(StaffUser.email == "cs@example.jp"))
    if cs_staff is not None:
        created = bool(seed_demo_voices(session, cs_staff)) or created
    created = seed_household(session, products) or created
    taro = demo_member(session)
    created = bool(seed_office_work(session, taro)) or created
    created = bool(seed_claims_demo(session, taro)) or created
    session.flush()
    return created
