"""The phone change and the step-up as services (the views only carry the session state)."""
from __future__ import annotations

import pytest

from portal.auth.models import CodeChallenge
from portal.extensions import db
from portal.profile import services
from tests.profile.helpers import audit_rows, requests_of
from tests.profile.test_phone import _code_sent_to


def test_a_code_goes_to_the_new_number_and_the_right_code_changes_it(app, db_session, make_member):
    member = make_member()
    with app.test_request_context():
        challenge = services.send_phone_change_code(db_session, member, "０８０－７７７７－０００２", "sms", ip="192.0.2.1")
        assert challenge.phone == "08077770002" and member.phone != "08077770002"
        code = _code_sent_to(db_session, "+818077770002")
        with pytest.raises(services.AttemptCounted) as wrong:
            services.confirm_phone_change(db_session, member, challenge, "000000" if code != "000000" else "111111",
                                          idempotency_key="phone:svc")
        assert wrong.value.errors == {"code": wrong.value.message}
        request = services.confirm_phone_change(db_session, member, challenge, code, idempotency_key="phone:svc")
        db.session.flush()  # the audit row is in the request's session, undone when it ends
        assert len(audit_rows(db_session, "profile.phone_change")) == 1
    assert member.phone == "08077770002" and request.kind == "phone_change"


def test_a_code_for_another_number_is_refused(app, db_session, make_member):
    member = make_member()
    with app.test_request_context():
        challenge = services.send_phone_change_code(db_session, member, "080-7777-0003", "sms", ip=None)
        code = _code_sent_to(db_session, "+818077770003")
        forged = services.PhoneChallenge(challenge.challenge_id, "08077770004")
        with pytest.raises(services.PhoneChallengeMismatch):
            services.confirm_phone_change(db_session, member, forged, code, idempotency_key="phone:forged")
    assert member.phone != "08077770004" and requests_of(db_session, member, "phone_change") == []


def test_a_number_that_cannot_take_sms_sends_nothing(app, db_session, make_member):
    member = make_member()
    with app.test_request_context(), pytest.raises(services.ProfileError) as refused:
        services.send_phone_change_code(db_session, member, "03-1234-5678", "sms", ip=None)
    assert not isinstance(refused.value, services.AttemptCounted) and refused.value.errors.keys() == {"phone"}
    assert db_session.query(CodeChallenge).count() == 0


def test_the_password_again_is_audited_by_the_service(app, db_session, make_member):
    member = make_member()
    with app.test_request_context():
        assert services.check_password_again(member, "not-the-password") is False
        db.session.flush()
        assert audit_rows(db_session, "member.reauthenticated") == []
        assert services.check_password_again(member, member.password_plain) is True
        db.session.flush()
        [row] = audit_rows(db_session, "member.reauthenticated")
        assert row.target_id == str(member.id)
