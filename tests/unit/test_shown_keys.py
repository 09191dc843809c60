"""shown_keys: which offered questions a form shows, from the answers given with them."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.selection import shown_keys
from app.domain.specs import Dependency

DM_YES = Dependency("dm", "equals", True)
SIZES = Dependency("size", "in", ("51-200", "200+"))
BUDGET_KNOWN = Dependency("budget", "known", True)
NO_PHONE = Dependency("phone", "known", False)
OFFERED = ("dm", "budget", "why", "size", "big", "phone", "fax", "timeline")
CONDITIONS = {"budget": DM_YES, "why": BUDGET_KNOWN, "big": SIZES, "fax": NO_PHONE}


@pytest.mark.parametrize(
    ("answers", "limit", "shown"),
    [
        pytest.param({}, None, ("dm", "size", "phone", "fax", "timeline"), id="nothing answered"),
        pytest.param(
            {"dm": True, "budget": "10k", "phone": "+49 30 1234567"},
            None,
            ("dm", "budget", "why", "size", "phone", "timeline"),
            id="a chain: why follows budget, which follows a yes",
        ),
        pytest.param({"dm": 1}, None, ("dm", "size", "phone", "fax", "timeline"), id="1 is no yes"),
        pytest.param(
            {"size": "200+"}, None, ("dm", "size", "big", "phone", "fax", "timeline"), id="in"
        ),
        pytest.param(
            {"size": "1-10"}, None, ("dm", "size", "phone", "fax", "timeline"), id="not in"
        ),
        pytest.param({"dm": True}, 3, ("dm", "budget", "size"), id="a revealed one takes a place"),
        pytest.param({}, 3, ("dm", "size", "phone"), id="the limit counts only what is shown"),
    ],
)
def test_shown_keys(answers: dict[str, Any], limit: int | None, shown: tuple[str, ...]) -> None:
    assert shown_keys(OFFERED, CONDITIONS, limit, frozenset(), answers) == shown


def test_the_consent_line_is_not_counted() -> None:
    offered = ("dm", "budget", "size", "terms")
    assert shown_keys(offered, CONDITIONS, 2, {"terms"}, {"dm": True}) == ("dm", "budget", "terms")


def test_a_dependent_of_a_question_not_shown_is_not_shown() -> None:
    # dm stepped back (limit 1 is size's): its yes reveals nothing.
    offered = ("size", "dm", "budget")
    assert shown_keys(offered, CONDITIONS, 1, frozenset(), {"dm": True}) == ("size",)
