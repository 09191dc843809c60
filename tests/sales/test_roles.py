"""The sales role stands outside the hierarchy: it does sales work only, and admin may too."""

from __future__ import annotations

import pytest

from app.models import role_allows


@pytest.mark.parametrize(
    ("held", "needed", "allowed"),
    [
        ("sales", "sales", True),
        ("admin", "sales", True),
        ("marketer", "sales", False),
        ("analyst", "sales", False),
        ("sales", "analyst", False),
        ("sales", "marketer", False),
        ("sales", "admin", False),
        ("admin", "analyst", True),
        ("analyst", "admin", False),
        ("owner", "analyst", False),
    ],
)
def test_role_allows(held, needed, allowed):
    assert role_allows(held, needed) is allowed


def test_the_command_creates_a_sales_token(runner, site):
    result = runner.invoke(
        args=["tokens", "create", "--site", "acme", "--role", "sales", "--name", "CRM workflow"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Created sales token #1 \"CRM workflow\" for site 'acme'.\n")
