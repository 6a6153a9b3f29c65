import pytest

CLIENT_FIXTURES = {"client", "staff_client", "member_client", "auth", "office_app"}


@pytest.fixture(autouse=True)
def in_app(request, app, db_session):
    """Services write audit rows through the app's session, so a test calling them
    runs in an app context. Not around tests that use test clients: their requests
    would share this context's `g` (and its cached signed-in user)."""
    if CLIENT_FIXTURES & set(request.fixturenames):
        yield
        return
    with app.app_context():
        yield
