"""Destination URLs in configs that someone below admin reads, and back again on import.

A destination URL may carry credentials (``https://bob:S3cret@…``, ``?api_key=…``). Only admins
read it whole: every other reader of a config (download, history) gets it through
``webhooks.masked_url``. A masked file imported again must not replace the real URL with the
masked one, so an imported URL holding ``***`` is taken as masked: when it is the masked form of
the URL the destination has, the destination keeps its URL; otherwise it is refused.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app.domain.webhooks import MASK, masked_url
from app.extensions import db
from app.models import Destination, Site

Problems = dict[str, list[str]]
CHANGED_NOTE = " (secret changed)"


def masked_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` with each destination's URL masked."""
    masked = copy.deepcopy(dict(config))
    for destination in _destinations(masked):
        if isinstance(destination.get("url"), str):
            destination["url"] = masked_url(destination["url"])
    return masked


def masked_revisions(
    before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Two configs masked for a diff. Where only a URL's secret parts changed, both masked forms
    would read the same; the later one then says ``(secret changed)`` so the change still shows
    (without either value)."""
    old = {d.get("key"): d.get("url") for d in _destinations(before or {})}
    masked_after = masked_config(after)
    for real, shown in zip(_destinations(after), _destinations(masked_after), strict=True):
        was = old.get(real.get("key"))
        if isinstance(was, str) and was != real.get("url") and masked_url(was) == shown["url"]:
            shown["url"] += CHANGED_NOTE
    return (masked_config(before) if before is not None else None), masked_after


def restore_masked_urls(data: Any) -> tuple[Any, Problems]:
    """``data`` with each masked destination URL that is the masked form of that destination's
    stored URL replaced by the stored URL, and the problems of the masked ones that are not."""
    if not isinstance(data, Mapping) or not any(map(_masked, _destinations(data))):
        return data, {}
    stored = _stored_urls(data.get("site"))
    restored = copy.deepcopy(dict(data))
    problems: Problems = {}
    for i, entry in enumerate(restored["destinations"]):
        if not (isinstance(entry, dict) and _masked(entry)):
            continue
        key = entry.get("key")
        url = stored.get(key) if isinstance(key, str) else None
        if url is not None and masked_url(url) == entry["url"]:
            entry["url"] = url
        else:
            problems[f"destinations[{i}].url"] = [
                f"holds {MASK}, which stands for a hidden secret, and is not the hidden form of "
                "this destination's current URL: write the URL in full"
            ]
    return restored, problems


def _masked(entry: Mapping[str, Any]) -> bool:
    url = entry.get("url")
    return isinstance(url, str) and MASK in url


def _destinations(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries = config.get("destinations")
    if not isinstance(entries, list):
        return []
    return [entry for entry in entries if isinstance(entry, dict)]


def _stored_urls(site: Any) -> dict[str, str]:
    """The URL of each destination (archived ones too) of the site a config names, by key."""
    site_key = site.get("key") if isinstance(site, Mapping) else None
    if not isinstance(site_key, str):
        return {}
    rows = db.session.execute(
        select(Destination.key, Destination.url)
        .join(Site, Site.id == Destination.site_id)
        .where(Site.key == site_key)
    )
    return {row.key: row.url for row in rows}
