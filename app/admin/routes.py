"""Console pages: sign in and out, and the home page."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.admin import access, admin_bp
from app.admin.forms import LoginForm, LogoutForm
from app.clock import current_time
from app.extensions import limiter
from app.models import SALES
from app.services.accounts import authenticate_user, end_console_session, start_console_session
from app.services.errors import TooManyAttempts
from app.services.insights import site_overviews


def login_limit() -> str:
    """Sign-in attempts per client address (the account page's password check too)."""
    return current_app.config["RATELIMIT_LOGIN"]


@admin_bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login() -> str | tuple[str, int] | Response:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate_user(form.email.data, form.password.data, current_time())
        except TooManyAttempts as exc:
            # The same answer whether the email names a user or not, locked or only waiting.
            form.password.errors.append(exc.message)
            return render_template("admin/login.html", form=form), 429
        if user is not None:
            login_user(user)
            start_console_session(user, current_time())
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("Wrong email or password.")
    return render_template("admin/login.html", form=form)


def _safe_next(target: str | None) -> str:
    """Only a console page: ?next= must never send someone elsewhere (issue 18)."""
    home = url_for("admin.home")
    return target if target and is_console_path(target, home) else home


def is_console_path(target: str, home: str) -> bool:
    """``target`` is a plain path under ``home`` ("/admin/"), as a browser would read it too:
    printable ASCII only (no tabs or newlines browsers drop, no look-alike dots), no scheme or
    host, and, decoded, no backslash, no empty or ``..`` segment that could climb or turn into
    a host."""
    if not target.isascii() or any(ch <= " " or ch == "\x7f" for ch in target):
        return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return False
    path = unquote(parts.path)
    segments = path.split("/")[1:-1] if path.endswith("/") else path.split("/")[1:]
    return (
        (path == home or path.startswith(home))
        and "\\" not in path
        and not any(segment in ("", ".", "..") for segment in segments)
    )


@admin_bp.post("/logout")
@login_required
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        end_console_session()  # this browser only: a saved copy of its cookie is refused
        logout_user()
        flash("You are signed out.")
    return redirect(url_for("admin.login"))


@admin_bp.get("/")
@access.role_required("analyst", SALES)
def home() -> str | Response:
    """Every site; a sales user, who may open the queues only, lands on them."""
    if not current_user.can("analyst"):
        return redirect(url_for("admin.queues"))
    return render_template("admin/home.html", sites=site_overviews(), user=current_user)


@admin_bp.record_once
def _root_redirect(state: Any) -> None:
    """The site root opens the console."""
    state.app.add_url_rule("/", "root", lambda: redirect(url_for("admin.home")))
