"""`trickle users`: console users."""

from __future__ import annotations

import click

from app.cli.errors import exit_on_refusal

users_group = click.Group("users", help="Console users: create and list them, lift a sign-in lock.")


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["analyst", "marketer", "admin", "sales"]), required=True)
@click.option("--generate-password", is_flag=True, help="Generate a password and print it.")
def create_user_command(email: str, role: str, generate_password: bool) -> None:
    """Create a console user; asks for the password unless --generate-password."""
    from app.services.accounts import create_user

    password = None
    if not generate_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with exit_on_refusal():
        user, generated = create_user(email, role, password)
    click.echo(f"Created {user.role} {user.email}.")
    if generated:
        click.echo(f"Password (shown once): {generated}")


@users_group.command("list")
def list_users_command() -> None:
    """List console users with their roles and last sign-in."""
    from app.services.accounts import list_users

    for user in list_users():
        seen = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
        click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'disabled'}\t{seen}")


@users_group.command("unlock")
@click.argument("email")
def unlock_user_command(email: str) -> None:
    """Lift the sign-in lock of EMAIL (after too many failed sign-ins) and forget its failures."""
    from app.clock import current_time
    from app.domain.identity import normalize_email
    from app.services.accounts import unlock_sign_in

    with exit_on_refusal():
        was_locked = unlock_sign_in(email, current_time(), by="the command line")
    done = "Unlocked" if was_locked else "Cleared the failed sign-ins of"
    click.echo(f"{done} {normalize_email(email)}.")
