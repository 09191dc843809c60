"""Console access: sign-in with CSRF, roles, safe redirects, rate limits, framing headers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.admin.access import CONSOLE_CSP, role_required
from app.extensions import db
from app.models import ROLES, User
from app.services.accounts import create_user
from tests.console import csrf_token, sign_in
from tests.factories import PASSWORD, acme_config, make_site


@pytest.fixture
def ann(app):
    user, _ = create_user("Ann@Acme.example", "analyst", PASSWORD)
    return user


def test_signing_in_opens_the_console(client, ann, clock):
    make_site()
    response = sign_in(client)
    assert (response.status_code, response.location) == (302, "/admin/")
    home = client.get("/admin/").get_data(as_text=True)
    assert "Acme Analytics" in home
    assert "ann@acme.example · analyst" in home
    assert db.session.get(User, ann.id).last_login_at == clock()


@pytest.mark.parametrize(
    ("email", "password"),
    [("ann@acme.example", "wrong password!"), ("nobody@acme.example", PASSWORD)],
)
def test_a_wrong_email_or_password_gets_one_message(client, ann, email, password):
    response = sign_in(client, email, password)
    assert response.status_code == 200
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_a_disabled_user_cannot_sign_in(client, ann):
    db.session.get(User, ann.id).active = False
    db.session.commit()
    assert "Wrong email or password." in sign_in(client).get_data(as_text=True)


def test_empty_fields_are_shown_next_to_the_field(client, ann):
    response = client.post(
        "/admin/login", data={"email": "", "password": "", "csrf_token": csrf_token(client)}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("This field is required.") == 2
    assert 'aria-invalid="true"' in html


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_missing_or_wrong_csrf_token_is_refused(client, ann, token):
    data = {"email": "ann@acme.example", "password": PASSWORD}
    if token:
        data["csrf_token"] = token
    response = client.post("/admin/login", data=data)
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_signing_out_needs_a_post_with_csrf(client, ann):
    sign_in(client)
    assert client.get("/admin/logout").status_code == 405
    assert client.post("/admin/logout").status_code == 400  # no token
    assert client.get("/admin/").status_code == 200
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert client.get("/admin/").status_code == 302


def test_the_console_needs_a_login_and_remembers_where_you_were_going(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.location == "/admin/login?next=%2Fadmin%2F"
    assert client.get("/").location == "/admin/"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "////evil.example/login",  # issue 18: was 302 to //evil.example/login
        "///evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\t//evil.example",
        " //evil.example",
        "/%2f/evil.example",
        "/%2F%2Fevil.example",
        "/%5c/evil.example",
        "%2f%2fevil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//admin@evil.example",
        "/admin@evil.example",
        "//evil。example",  # an ideographic full stop, which browsers read as a dot
        "//evil%E3%80%82example",
        "/admin/../..//evil.example",
        "/admin/%2e%2e/%2e%2e//evil.example",
        "/admin\\..\\evil.example",
        "/",
        "/api/v1/openapi.json",  # a path of this server, but not the console's
        "",
    ],
)
def test_next_never_leaves_the_console(client, ann, target):
    assert sign_in(client, next=target).location == "/admin/"


@pytest.mark.parametrize(
    "target", ["/admin/", "/admin/sites/acme/contacts?q=ada&page=2", "/admin/users#new"]
)
def test_next_goes_back_to_a_console_page(client, ann, target):
    assert sign_in(client, next=target).location == target


def test_console_pages_refuse_framing(client):
    response = client.get("/admin/login")
    assert response.headers["Content-Security-Policy"] == CONSOLE_CSP
    assert "frame-ancestors 'none'" in CONSOLE_CSP
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_session_cookie_is_httponly_and_lax(client, ann):
    response = sign_in(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [(r, n, ROLES.index(r) >= ROLES.index(n)) for r in ROLES for n in ROLES],
)
def test_roles_are_ordered_analyst_marketer_admin(app, role, needed, allowed):
    assert User(email="x@y.example", role=role, password_hash="-").can(needed) is allowed


def test_a_view_for_admins_is_403_for_a_marketer(app, client):
    app.add_url_rule("/admin-only", "admin_only", role_required("admin")(lambda: "secret"))
    create_user("mia@acme.example", "marketer", PASSWORD)
    create_user("root@acme.example", "admin", PASSWORD)
    sign_in(client, "mia@acme.example")
    assert client.get("/admin-only").status_code == 403
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    sign_in(client, "root@acme.example")
    assert client.get("/admin-only").get_data(as_text=True) == "secret"


def test_a_site_name_with_markup_is_shown_as_text(client, ann):
    config = acme_config()
    config["site"] = {**config["site"], "name": "<script>alert(1)</script>"}
    make_site(config)
    sign_in(client)
    html = client.get("/admin/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_the_embed_snippet_is_shown_as_text(client, ann):
    make_site()
    sign_in(client)
    html = client.get("/admin/").get_data(as_text=True)
    assert (
        "&lt;script async src=&#34;http://localhost/widget.js&#34; data-site=&#34;acme&#34; "
        "data-form=&#34;blog&#34; data-stage=&#34;early&#34;&gt;&lt;/script&gt;"
    ) in html


def test_no_users_and_no_sites_says_what_to_do(client, ann):
    sign_in(client)
    assert "trickle import-config site.yaml" in client.get("/admin/").get_data(as_text=True)


def test_stored_passwords_are_hashes(app, ann):
    stored = db.session.scalars(select(User.password_hash)).one()
    assert stored.startswith("scrypt:")
    assert PASSWORD not in stored


class TestLoginRateLimit:
    @pytest.fixture
    def app_settings(self):
        # The per-address limit alone: the per-email throttle (tests/accounts/test_login_throttle.py)
        # would otherwise refuse these attempts at ann's account whatever the address.
        return {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_LOGIN": "3/minute",
            "LOGIN_BACKOFF_SECONDS": 0,
            "LOGIN_FAILURES_BEFORE_LOCK": 0,
        }

    def test_too_many_attempts_are_429(self, client, ann):
        codes = [sign_in(client, password="wrong password!").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]

    def test_an_ipv6_client_is_counted_by_its_64(self, client, ann):
        def attempt(ip: str) -> int:
            client.environ_base["REMOTE_ADDR"] = ip
            return sign_in(client, password="wrong password!").status_code

        codes = [attempt(f"2001:db8:5:6::{n}") for n in range(1, 5)]
        assert codes == [200, 200, 200, 429]
        assert attempt("2001:db8:5:7::1") == 200
