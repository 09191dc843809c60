"""A site's config over time: every import's revision, diffs between them, upload and download."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select

from app.domain.config_words import config_changes
from app.extensions import db
from app.models import ConfigRevision, DefinitionProposal, Site
from app.services.errors import Invalid, NotFound
from app.services.siteconfig.canonical import without_defaults
from app.services.siteconfig.files import dump_config, parse_config_text
from app.services.siteconfig.importer import export_site_config, import_site_config
from app.services.siteconfig.masking import masked_config, masked_revisions, restore_masked_urls
from app.services.siteconfig.proposals import APPROVED
from app.services.siteconfig.schema import DestinationIn


@dataclass(frozen=True)
class Revision:
    """One applied config; a change to the definition says who approved it (the author
    proposed it)."""

    version: int
    author: str
    created_at: datetime
    approved_by: str | None = None
    approval_comment: str | None = None
    changes: tuple[str, ...] = ()  # what it changed, in words (domain.config_words)


@dataclass(frozen=True)
class RevisionDiff:
    revision: Revision
    previous_version: int | None
    lines: tuple[str, ...]  # a unified diff of the YAML, before -> after


def _site_id(site_key: str) -> int:
    site_id = db.session.scalar(select(Site.id).where(Site.key == site_key))
    if site_id is None:
        raise NotFound(f'No site "{site_key}".')
    return site_id


def config_history(site_key: str, *, masked: bool = False) -> list[Revision]:
    """Every revision of the site's config, newest first, each with what it changed in words
    (``masked``: as a reader below admin may see the destinations)."""
    site_id = _site_id(site_key)
    rows = db.session.scalars(
        select(ConfigRevision)
        .where(ConfigRevision.site_id == site_id)
        .order_by(ConfigRevision.version.desc())
    ).all()
    approvals = _approvals(site_id)
    befores = [*(row.config for row in rows[1:]), None]
    return [
        _revision(row, approvals, _changes(before, row.config, masked))
        for row, before in zip(rows, befores, strict=True)
    ]


def _changes(before: dict | None, after: dict, masked: bool) -> tuple[str, ...]:
    if masked:
        before, after = masked_revisions(before, after)
    return tuple(config_changes(before, after))


def _approvals(site_id: int, version: int | None = None) -> dict[int, DefinitionProposal]:
    """The approved proposals of the site (the one of ``version``), by the version they made."""
    query = select(DefinitionProposal).where(
        DefinitionProposal.site_id == site_id, DefinitionProposal.status == APPROVED
    )
    if version is not None:
        query = query.where(DefinitionProposal.applied_version == version)
    return {row.applied_version: row for row in db.session.scalars(query)}


def _revision(
    row: ConfigRevision, approvals: dict[int, DefinitionProposal], changes: tuple[str, ...]
) -> Revision:
    approval = approvals.get(row.version)
    by, comment = (approval.decided_by, approval.comment) if approval else (None, None)
    return Revision(row.version, row.author, row.created_at, by, comment, changes)


def revision_diff(site_key: str, version: int, *, masked: bool = False) -> RevisionDiff:
    """What ``version`` changed against the revision before it (everything, for the first).

    ``masked`` (a reader below admin): destination URLs masked, and a URL whose secret alone
    changed shown as changed, without either value."""
    site_id = _site_id(site_key)
    rows = db.session.scalars(
        select(ConfigRevision)
        .where(ConfigRevision.site_id == site_id, ConfigRevision.version <= version)
        .order_by(ConfigRevision.version.desc())
        .limit(2)
    ).all()
    if not rows or rows[0].version != version:
        raise NotFound(f"No revision {version} of site {site_key}.")
    after, before = rows[0], rows[1] if len(rows) > 1 else None
    old_config, new_config = before.config if before else None, after.config
    if masked:
        old_config, new_config = masked_revisions(old_config, new_config)
    old = dump_config(old_config, "yaml") if old_config is not None else ""
    lines = difflib.unified_diff(
        old.splitlines(),
        dump_config(new_config, "yaml").splitlines(),
        fromfile=f"version {before.version}" if before else "(nothing)",
        tofile=f"version {after.version}",
        lineterm="",
    )
    return RevisionDiff(
        _revision(
            after, _approvals(site_id, version), tuple(config_changes(old_config, new_config))
        ),
        before.version if before else None,
        tuple(lines),
    )


def restore_revision(
    site_key: str, version: int, author: str, *, may_change_destinations: bool = True
) -> Site:
    """Import revision ``version``'s config again as a new revision by ``author``: the undo of
    the changes since. Through ``import_site_config`` like any change (validated again, a
    change to the definition held for approval: DefinitionPending). NotFound for an unknown
    revision; Invalid when it is the config in force already, or (without
    ``may_change_destinations``) when its destinations differ from the site's."""
    site_id = _site_id(site_key)
    revisions = db.session.scalars(
        select(ConfigRevision)
        .where(ConfigRevision.site_id == site_id, ConfigRevision.version >= version)
        .order_by(ConfigRevision.version.desc())
    ).all()
    if not revisions or revisions[-1].version != version:
        raise NotFound(f"No revision {version} of site {site_key}.")
    config = dict(revisions[-1].config)
    if config == revisions[0].config:
        raise Invalid(
            f"Version {version} is the config in force: nothing to restore.",
            {"version": ["the site's config is already this version's"]},
        )
    if not may_change_destinations:
        _refuse_destination_changes(site_key, config)
    return import_site_config(config, author=author)


def current_config_yaml(site_key: str, *, masked: bool = False) -> str:
    """The same YAML ``trickle export-config SITE`` prints; ``masked`` (a reader below admin)
    with destination URLs masked."""
    config = export_site_config(site_key)
    return dump_config(masked_config(config) if masked else config, "yaml")


def import_uploaded_config(
    site_key: str, text: str, author: str, *, may_change_destinations: bool = True
) -> Site:
    """Import an uploaded YAML or JSON config for ``site_key``, validated like the CLI's.

    Without ``may_change_destinations`` (anyone below admin) the file's destinations must be
    the ones the site has: where contact data is sent is the admins' decision. Their URLs may be
    masked as that reader downloaded them; the destinations keep their own.
    """
    _site_id(site_key)
    data = parse_config_text(text)
    named = data.get("site", {}).get("key") if isinstance(data.get("site"), dict) else None
    if named != site_key:
        raise Invalid(
            "The file describes another site.",
            {"site.key": [f'this page imports site "{site_key}"; the file names "{named}"']},
        )
    if not may_change_destinations:
        _refuse_destination_changes(site_key, data)
    return import_site_config(data, author=author)


def _refuse_destination_changes(site_key: str, data: dict[str, Any]) -> None:
    """Invalid unless ``data``'s destinations are the site's, URLs masked or not."""
    data, problems = restore_masked_urls(data)
    if problems:
        raise Invalid("A destination URL is masked.", problems)
    if _destinations_changed(site_key, data):
        raise Invalid(
            "Only an admin may change destinations.",
            {
                "destinations": [
                    "only an admin may add, change or remove destinations; keep this section "
                    "as it is in the current config"
                ]
            },
        )


def _destinations_changed(site_key: str, data: dict[str, Any]) -> bool:
    """Whether ``data`` says anything about destinations other than what the site has now
    (compared as the export writes them: defaults left out)."""
    current = export_site_config(site_key).get("destinations", [])
    proposed = data.get("destinations") or []
    if proposed == current:
        return False
    if not isinstance(proposed, list) or not all(isinstance(e, dict) for e in proposed):
        return True
    try:
        loaded = [DestinationIn().load(entry) for entry in proposed]
    except ValidationError:
        return True
    return [without_defaults(entry, DestinationIn) for entry in loaded] != current
