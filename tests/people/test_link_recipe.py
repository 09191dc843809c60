"""The recipes docs/widget.md gives email tools and site backends compute exactly what Trickle
checks: each snippet is read from the guide (between its recipe markers) and run."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.domain.identity import identity_hash, mint_link_token

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "widget.md"
LINK_KEY = "k3y-Of-the-site_0123456789abcdefghijklmnopq"
IDENTITY_SECRET = "tis_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
EMAILS = [" Ann@Zorblax.Example ", "bob+news@example.com", "ÅSA@EXEMPEL.SE\t"]


def recipe(name: str) -> str:
    """The code of the fenced block between ``<!-- recipe:name -->`` and its closing marker."""
    match = re.search(
        rf"<!-- recipe:{name} -->\n```\w+\n(.*?)```\n<!-- /recipe:{name} -->",
        GUIDE.read_text(),
        re.DOTALL,
    )
    assert match, f"docs/widget.md has no recipe {name!r}"
    return match.group(1)


@pytest.mark.parametrize("email", EMAILS)
@pytest.mark.parametrize("expires", [1_780_000_000, 2_000_000_001])
def test_the_signed_link_recipe_mints_trickles_tokens(email, expires):
    run: dict = {"LINK_KEY": LINK_KEY, "IDENTITY_SECRET": IDENTITY_SECRET, "email": email}
    exec(recipe("signed-link"), run)  # noqa: S102 - our own documentation

    expected = mint_link_token(LINK_KEY, IDENTITY_SECRET, email, expires)
    assert run["trickle_link_token"](LINK_KEY, IDENTITY_SECRET, email, expires) == expected
    now_token = mint_link_token(LINK_KEY, IDENTITY_SECRET, email, run["expires"])
    assert run["url"] == (f"https://www.example.com/pricing?utm_source=email&trickle={now_token}")


@pytest.mark.parametrize("email", EMAILS)
def test_the_identity_hash_recipe_matches_trickles_hash(email):
    run: dict = {}
    exec(recipe("identity-hash"), run)  # noqa: S102 - our own documentation
    assert run["trickle_identity_hash"](IDENTITY_SECRET, email) == identity_hash(
        IDENTITY_SECRET, email
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.parametrize("email", EMAILS)
def test_the_node_identity_hash_recipe_matches_trickles_hash(email):
    script = recipe("identity-hash-node") + (
        "process.stdout.write(trickleIdentityHash(process.argv[1], process.argv[2]));"
    )
    node = shutil.which("node")
    assert node
    result = subprocess.run(
        [node, "-e", script, IDENTITY_SECRET, email],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == identity_hash(IDENTITY_SECRET, email)
