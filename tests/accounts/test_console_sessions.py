"""Console sessions end server-side: at logout (this session only), after the absolute lifetime
(SESSION_MAX_AGE_HOURS, 12 h) and after the idle timeout (SESSION_IDLE_MINUTES, 60 min).

Each request runs in its own app context, as in production: the ``app`` fixture's context
would otherwise keep ``g`` (Flask-Login's loaded user, the CSRF token) from one request to
the next, and a replayed cookie would never be looked at."""

from __future__ import annotations

from app.services.accounts import create_user
from tests.console import csrf_token, sign_in
from tests.factories import PASSWORD

ENDED = "Your session has ended. Please sign in again."


def _sign_in(app, client=None):
    client = client or app.test_client()
    with app.app_context():
        assert sign_in(client).status_code == 302
    return client


def _get(app, client, path: str = "/admin/"):
    with app.app_context():
        return client.get(path)


def _log_out(app, client):
    with app.app_context():
        token = csrf_token(client, "/admin/")
        return client.post("/admin/logout", data={"csrf_token": token})


def _replay(app, cookie: str):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return _get(app, thief)


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/admin/login" in response.headers["Location"]


def _ended_message_shown(app, client, response) -> bool:
    return ENDED in _get(app, client, response.headers["Location"]).get_data(as_text=True)


def test_a_saved_cookie_replayed_after_logout_is_sent_to_login(app):
    create_user("ann@acme.example", "admin", PASSWORD)
    client = _sign_in(app)
    saved = client.get_cookie("session").value
    assert _replay(app, saved).status_code == 200  # the saved cookie works before logout
    assert _is_login_redirect(_log_out(app, client))
    assert _is_login_redirect(_get(app, client))
    assert _is_login_redirect(_replay(app, saved))


def test_logout_ends_only_this_session(app):
    create_user("ann@acme.example", "admin", PASSWORD)
    laptop, phone = _sign_in(app), _sign_in(app)
    _log_out(app, laptop)
    assert _is_login_redirect(_get(app, laptop))
    assert _get(app, phone).status_code == 200


def test_twelve_hours_and_a_minute_after_sign_in_a_saved_cookie_is_sent_to_login(app, clock):
    create_user("ann@acme.example", "admin", PASSWORD)
    client = _sign_in(app)
    saved = client.get_cookie("session").value
    clock.advance(hours=12, minutes=1)
    assert _is_login_redirect(_replay(app, saved))


def test_activity_every_50_minutes_keeps_a_session_until_its_lifetime(app, clock):
    create_user("ann@acme.example", "admin", PASSWORD)
    client = _sign_in(app)
    for _ in range(14):  # 11 h 40 min of work, never idle for an hour
        clock.advance(minutes=50)
        assert _get(app, client).status_code == 200, clock.now
    clock.advance(minutes=21)  # 12 h 1 min after sign-in
    response = _get(app, client)
    assert _is_login_redirect(response)
    assert _ended_message_shown(app, client, response)


def test_a_session_idle_for_61_minutes_is_sent_to_login_with_a_message(app, clock):
    create_user("ann@acme.example", "admin", PASSWORD)
    client = _sign_in(app)
    clock.advance(minutes=59)
    assert _get(app, client).status_code == 200
    clock.advance(minutes=61)
    response = _get(app, client)
    assert _is_login_redirect(response)
    assert _ended_message_shown(app, client, response)
    _sign_in(app, client)  # signing in again starts a fresh session
    assert _get(app, client).status_code == 200


def test_the_limits_are_settings(app, clock):
    app.config.update(SESSION_IDLE_MINUTES=5, SESSION_MAX_AGE_HOURS=1)
    create_user("ann@acme.example", "admin", PASSWORD)
    client = _sign_in(app)
    clock.advance(minutes=4)
    assert _get(app, client).status_code == 200
    clock.advance(minutes=6)
    assert _is_login_redirect(_get(app, client))
    client = _sign_in(app)
    for _ in range(15):
        clock.advance(minutes=4)
        assert _get(app, client).status_code == 200
    clock.advance(minutes=1)  # 61 minutes after sign-in
    assert _is_login_redirect(_get(app, client))
