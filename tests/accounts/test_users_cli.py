"""`trickle users` and the demo admin."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from app.services.accounts import authenticate_user


def test_create_prompts_for_the_password(runner, clock):
    result = runner.invoke(
        args=["users", "create", "Mia@Acme.example", "--role", "marketer"],
        input="a long enough secret\na long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created marketer mia@acme.example." in result.output
    assert authenticate_user("mia@acme.example", "a long enough secret", clock()).role == "marketer"


def test_create_can_generate_and_print_a_password(runner, clock):
    result = runner.invoke(
        args=["users", "create", "ops@acme.example", "--role", "admin", "--generate-password"]
    )
    assert result.exit_code == 0, result.output
    password = re.search(r"Password \(shown once\): (\S+)", result.output).group(1)
    assert len(password) == 20
    assert authenticate_user("ops@acme.example", password, clock()).role == "admin"


@pytest.mark.parametrize(
    ("args", "secret", "message"),
    [
        (
            ["not-an-email", "--role", "admin"],
            "a long enough secret",
            "error: email: Enter a valid email address.",
        ),
        (
            ["a@acme.example", "--role", "admin"],
            "short",
            "error: password: Use at least 12 characters.",
        ),
    ],
)
def test_bad_input_creates_nobody(runner, args, secret, message):
    result = runner.invoke(args=["users", "create", *args], input=f"{secret}\n{secret}\n")
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_an_unknown_role_is_refused_by_the_command(runner):
    result = runner.invoke(args=["users", "create", "a@acme.example", "--role", "owner"])
    assert result.exit_code == 2
    assert "'owner' is not one of 'analyst', 'marketer', 'admin'" in result.output


def test_a_second_user_with_the_same_email_is_refused(runner):
    runner.invoke(
        args=["users", "create", "a@acme.example", "--role", "admin", "--generate-password"]
    )
    result = runner.invoke(
        args=["users", "create", "A@acme.example", "--role", "analyst", "--generate-password"]
    )
    assert result.exit_code == 1
    assert "error: email: A user with this email exists." in result.output


def test_list_shows_role_state_and_last_sign_in(runner, clock):
    runner.invoke(
        args=["users", "create", "b@acme.example", "--role", "analyst", "--generate-password"]
    )
    result = runner.invoke(args=["users", "list"])
    assert result.output == "b@acme.example\tanalyst\tactive\tnever\n"


def test_demo_prints_a_working_admin_login_and_renews_it(runner, clock):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    email, password = re.search(r"Demo console login: (\S+) / (\S+)", first.output).groups()
    assert email == "admin@demo.example"
    assert authenticate_user(email, password, clock()).role == "admin"
    second = re.search(r"/ (\S+)", runner.invoke(args=["demo"]).output).group(1)
    assert second != password
    assert authenticate_user(email, password, clock()) is None
    assert authenticate_user(email, second, clock()) is not None


def test_demo_prints_a_sales_login_that_opens_the_queue_only(runner, clock):
    result = runner.invoke(args=["demo", "--no-contacts"])
    email, password = re.search(
        r"Demo sales login \(the hand-off queue\): (\S+) / (\S+)", result.output
    ).groups()
    assert email == "sales@demo.example"
    assert authenticate_user(email, password, clock()).role == "sales"
