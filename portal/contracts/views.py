from __future__ import annotations

from flask import Blueprint, render_template

from portal.clock import today
from portal.contracts import services
from portal.extensions import db
from portal.users import current_member

bp = Blueprint("contracts", __name__)


@bp.get("/contracts", endpoint="index")
def index():
    member = current_member()
    # The list shows contracts, not amounts of cover: no coverage rows are read.
    household = services.household_summary(db.session, member, today(), kinds=())
    return render_template("contracts/index.html", household=household)


@bp.get("/contracts/<contract_no>", endpoint="show")
def show(contract_no: str):
    member = current_member()
    contract = services.get_contract_or_404(db.session, member, contract_no)
    on = today()
    age = services.insured_age(contract.insured_person, on)
    return render_template(
        "contracts/show.html", contract=contract, on=on, age=age,
        in_force=contract.is_in_force_on(on),
        current=services.coverage_for_age(contract, age),
        next_band=services.next_band(contract, contract.insured_person, age),
        history=services.premium_history(contract),
        payments=services.recent_payments(db.session, contract, on),
        procedures=services.procedures_for(contract),
    )


@bp.get("/coverage", endpoint="coverage")
def coverage():
    member = current_member()
    household = services.household_summary(db.session, member, today())
    return render_template("contracts/coverage.html", household=household)


@bp.app_template_global("contract_state")
def contract_state_global(contract, on=None):
    """(code, label) of a contract today, for templates of any feature."""
    return services.contract_state(contract, on or today())
