"""Console accounts: create, list, change, authenticate. Passwords are stored only as scrypt
hashes."""

from __future__ import annotations

import functools
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.domain.answers import AnswerError, clean_answer
from app.domain.identity import normalize_email
from app.domain.specs import FieldRule
from app.extensions import db
from app.models import CONSOLE_ROLES, User
from app.services.accounts.throttle import reserve_attempt, throttle_key, throttle_rules
from app.services.errors import Invalid, NotFound, TooManyAttempts
from app.services.transactions import commit_unit

MIN_PASSWORD_LENGTH = 12
LAST_ADMIN = "At least one active admin must remain: make someone else an admin first."
_EMAIL = FieldRule(key="email", tier="", kind="email")
TOO_MANY_ATTEMPTS = "Too many failed sign-ins for this email. Try again later."


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


def _hashed(password: str) -> str:
    return generate_password_hash(password, method=_hash_method())


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash of a random password, by the method real ones use: checked when no user has the
    email, so a wrong email costs as long as a wrong password."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def create_user(email: str, role: str, password: str | None = None) -> tuple[User, str | None]:
    """Create a user; without ``password`` one is generated and returned (shown once)."""
    errors: dict[str, list[str]] = {}
    try:
        email = normalize_email(clean_answer(_EMAIL, email) or "")
    except AnswerError as exc:
        errors["email"] = [exc.message]
    if not email and "email" not in errors:
        errors["email"] = ["Enter an email address."]
    if role not in CONSOLE_ROLES:
        errors["role"] = [f"Choose one of: {', '.join(CONSOLE_ROLES)}."]
    generated = secrets.token_urlsafe(15) if password is None else None
    password = password if password is not None else generated
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    if not errors and db.session.scalar(select(User.id).where(User.email == email)):
        errors["email"] = ["A user with this email exists."]
    if errors:
        raise Invalid("The user was not created.", errors)
    user = User(email=email, role=role, password_hash=_hashed(password))

    def work() -> User:
        db.session.add(user)
        return user

    return commit_unit(work), generated


def list_users() -> list[User]:
    """Every console user, by email."""
    return list(db.session.scalars(select(User).order_by(User.email)))


def find_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def update_user(user: User, role: str, active: bool) -> User:
    """Set ``user``'s role and whether they may sign in.

    Refused (Invalid, nothing saved) when no active admin would remain. The change is written
    first and the admins counted after it, in the same transaction: on SQLite that holds the
    one write lock; on PostgreSQL the active admins are locked first (``FOR UPDATE``), so two
    admins demoting each other at the same moment cannot both succeed.
    """
    if role not in CONSOLE_ROLES:
        raise Invalid(
            "The user was not changed.", {"role": [f"Choose one of: {', '.join(CONSOLE_ROLES)}."]}
        )
    user_id = user.id
    active_admins = select(User.id).where(User.role == "admin", User.active.is_(True))

    def work() -> User:
        db.session.scalars(active_admins.order_by(User.id).with_for_update()).all()
        target = db.session.scalars(
            select(User)
            .where(User.id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        if target is None:
            raise NotFound("No such user.")
        if (target.role, target.active) != (role, active):
            # A new role is signed in with afresh; a re-enabled user's old sessions stay ended.
            target.session_version += 1
        target.role = role
        target.active = active
        db.session.flush()
        if db.session.scalars(active_admins.limit(1)).first() is None:
            field = "role" if role != "admin" else "active"
            raise Invalid("The user was not changed.", {field: [LAST_ADMIN]})
        return target

    return commit_unit(work)


def set_password(user: User, password: str | None = None) -> str | None:
    """Replace ``user``'s password; without one, generate and return it."""
    generated = secrets.token_urlsafe(15) if password is None else None
    new = password if password is not None else generated
    if len(new or "") < MIN_PASSWORD_LENGTH:
        raise Invalid(
            "The password was not changed.",
            {"password": [f"Use at least {MIN_PASSWORD_LENGTH} characters."]},
        )
    user.password_hash = _hashed(new)
    user.session_version += 1  # every open session of this user ends
    db.session.commit()
    return generated


def create_or_reset_user(email: str, role: str) -> tuple[User, str]:
    """The user with ``email``, created with ``role`` when there is none, with a freshly
    generated password, returned to be shown once. An existing user keeps their role; their
    open sessions end (as with ``set_password``)."""
    user = _user_with_email(email)
    if user is None:
        user, generated = create_user(email, role)
    else:
        generated = set_password(user)
    assert generated is not None  # no password was given, so one was generated
    return user, generated


def authenticate_user(email: str, password: str, now: datetime) -> User | None:
    """The active user with this email and password, its last login recorded; else None, the
    attempt counted as a failure against the email (``throttle``). TooManyAttempts, whatever
    the password, while the email is locked or must wait; the same for an email that names no
    user. The attempt is counted before the password is checked and forgotten once it proved
    right, so sign-ins running at the same time get no more checks than the limits allow."""
    user = _password_checked(email, password, now)
    if user is not None:
        user.last_login_at = now
        db.session.commit()
    return user


def change_own_password(user: User, current: str, new: str, now: datetime) -> None:
    """A signed-in user replaces their own password: ``current`` must be right (checked and
    counted like a sign-in, so a browser left open cannot be used to guess it), ``new`` as
    long as any password and not the current one. Invalid, naming the field, and nothing
    changed otherwise; every session of the user ends (the caller signs this browser in
    again)."""
    problem = None
    if len(new) < MIN_PASSWORD_LENGTH:
        problem = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    elif new == current:
        problem = "Choose a password other than the current one."
    if problem:
        raise Invalid("The password was not changed.", {"new_password": [problem]})
    if _password_checked(user.email, current, now) is None:
        raise Invalid("The password was not changed.", {"current_password": ["Wrong password."]})
    set_password(user, new)


def _password_checked(email: str, password: str, now: datetime) -> User | None:
    """The active user with this email and password, or None; the attempt counted first and
    forgotten when right (TooManyAttempts while the email is locked or must wait). Commits
    the count; the caller commits what it does with the user."""
    rules = throttle_rules()
    key = throttle_key(email)
    user = _user_with_email(email)
    # An email with no user costs a hash check too, so it answers as slowly as a wrong password.
    # Read before the attempt is counted (and committed): no connection is held during the check.
    stored = user.password_hash if user is not None else _dummy_hash(_hash_method())
    active = user is not None and user.active
    reservation = reserve_attempt(key, user, now, rules)
    if reservation is None:
        raise TooManyAttempts(TOO_MANY_ATTEMPTS)
    if not check_password_hash(stored, password) or user is None or not active:
        reservation.failed()
        return None
    reservation.succeeded()
    return user


def _user_with_email(email: str) -> User | None:
    return db.session.scalars(
        select(User).where(User.email == normalize_email(email))
    ).one_or_none()


def active_user(email: str) -> User | None:
    """The console user of ``email`` (any case, surrounding spaces ignored) while they may
    sign in; None for an unknown or disabled address."""
    user = _user_with_email(email)
    return user if user is not None and user.active else None


def load_user(session_id: str) -> User | None:
    """The user of a session (``User.get_id``); None once the user is disabled or their
    session version moved on (password reset, role change)."""
    user_id, _, version = session_id.partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user
