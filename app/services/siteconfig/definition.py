"""What sales and marketing agree on: the part of a site's config that says what a qualified
lead is and what happens to it (issue 21). Changing it needs the other team's approval, replays
as a what-if, and re-qualifies the site's contacts once it lands.

The definition is ``stages``, the hand-off window ``site.followup_hours`` and the whole
``sales_outcomes`` section (its ``requalify_after`` included). Everything here works on
configs as ``export_site_config`` and the revisions hold them (defaults left out).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from app.services.siteconfig.files import dump_config
from app.services.siteconfig.schema import DEFAULT_FOLLOWUP_HOURS

DEFINITION_KEYS: tuple[str, ...] = ("site.followup_hours", "stages", "sales_outcomes")


def definition_of(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The definition part of ``config``, with its defaults filled in (an empty or missing
    config has the default definition: no stages, 48 hours, no sales_outcomes)."""
    config = config or {}
    return {
        "followup_hours": (config.get("site") or {}).get("followup_hours", DEFAULT_FOLLOWUP_HOURS),
        "stages": list(config.get("stages") or []),
        "sales_outcomes": config.get("sales_outcomes"),
    }


def definition_changed(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> bool:
    """True when ``after`` defines a qualified lead differently from ``before``."""
    return definition_of(before) != definition_of(after)


def definition_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """The definition's change as a unified diff of its YAML, before -> after (empty: none)."""
    return list(
        difflib.unified_diff(
            dump_config(definition_of(before), "yaml").splitlines(),
            dump_config(definition_of(after), "yaml").splitlines(),
            fromfile="definition before",
            tofile="definition after",
            lineterm="",
        )
    )
