"""Console pages: sign in and out, and the home page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.admin import access, admin_bp
from app.admin.forms import LoginForm, LogoutForm
from app.clock import current_time
from app.extensions import limiter
from app.services.accounts import authenticate_user, end_console_session, start_console_session
from app.services.insights import site_overviews


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@admin_bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate_user(form.email.data, form.password.data, current_time())
        if user is not None:
            login_user(user)
            start_console_session(user, current_time())
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("Wrong email or password.")
    return render_template("admin/login.html", form=form)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: ?next= must never send someone elsewhere."""
    parts = urlsplit(target or "")
    if (
        target
        and not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and "\\" not in target
    ):
        return target
    return url_for("admin.home")


@admin_bp.post("/logout")
@login_required
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        end_console_session()  # this browser only: a saved copy of its cookie is refused
        logout_user()
        flash("You are signed out.")
    return redirect(url_for("admin.login"))


@admin_bp.get("/")
@access.role_required("analyst")
def home() -> str:
    return render_template("admin/home.html", sites=site_overviews(), user=current_user)


@admin_bp.record_once
def _root_redirect(state: Any) -> None:
    """The site root opens the console."""
    state.app.add_url_rule("/", "root", lambda: redirect(url_for("admin.home")))
