"""A site's definition: the config file (read, validate, import, export), the console's edits,
the revision history, destinations' signing secrets, and the snapshot every request reads.

Inside: ``importer`` (import and export, all or nothing), ``files`` (YAML/JSON text),
``schema``/``fields``/``rules`` (validation), ``canonical`` (the exported shape), ``editing``
(the console's entry-by-entry edits), ``history`` (revisions), ``proposals`` (the gate: a
change to the definition waits for the other team), ``approvals`` (approve, reject), ``masking`` (destination URLs
as non-admins read them, and back on import), ``signing`` (destinations' secrets), ``secrets`` (the site's identity and inbound secrets,
rotated with an overlap), ``snapshots`` (the cached
read model of a site), ``requalification`` (what an applied change of the definition sets
off: ``definition.changed``, and the site marked for re-qualification).
"""

from app.domain.engagement import DEFAULT_ENGAGEMENT
from app.services.siteconfig.approvals import (
    MAX_COMMENT,
    Proposal,
    approve_proposal,
    find_proposal,
    may_decide,
    proposal_config,
    proposals_awaiting,
    reject_proposal,
    site_proposals,
)
from app.services.siteconfig.canonical import changed_engagement, engagement_weights
from app.services.siteconfig.definition import (
    DEFINITION_KEYS,
    definition_changed,
    definition_diff,
    definition_of,
)
from app.services.siteconfig.editing import (
    Config,
    EditableConfig,
    EditRefused,
    FormOrder,
    asking_order,
    checked_edit,
    create_site,
    edit_config,
    editable_config,
    form_asking_orders,
    move_field,
    problems_for_entry,
    put_entry,
    readable_problems,
    remove_destination,
    remove_field,
    remove_form,
    remove_tier,
)
from app.services.siteconfig.files import dump_config, parse_config_text, read_config_file
from app.services.siteconfig.history import (
    config_history,
    current_config_yaml,
    import_uploaded_config,
    restore_revision,
    revision_diff,
)
from app.services.siteconfig.importer import (
    checked_config,
    export_site_config,
    import_site_config,
)
from app.services.siteconfig.proposals import Approval, DefinitionPending
from app.services.siteconfig.requalification import (
    DEFINITION_CHANGED,
    request_requalification,
)
from app.services.siteconfig.schema import (
    ASK_IF_OPS,
    CHOICE_KINDS,
    EVENTS,
    FORMATS,
    KEY_PATTERN,
    MAX_RETENTION_DAYS,
)
from app.services.siteconfig.secrets import (
    IDENTITY,
    INBOUND,
    SecretInfo,
    live_secrets,
    rotate_secret,
    secrets_shown,
)
from app.services.siteconfig.signing import (
    generate_signing_secret,
    rotate_generated_secret,
)
from app.services.siteconfig.snapshots import (
    DRAFT_KEYS,
    FieldView,
    FormView,
    SiteSnapshot,
    draft_form,
    remembered_snapshot,
    site_snapshot,
)

__all__ = [
    "ASK_IF_OPS",
    "CHOICE_KINDS",
    "DEFAULT_ENGAGEMENT",
    "DEFINITION_CHANGED",
    "DEFINITION_KEYS",
    "DRAFT_KEYS",
    "EVENTS",
    "FORMATS",
    "IDENTITY",
    "INBOUND",
    "KEY_PATTERN",
    "MAX_COMMENT",
    "MAX_RETENTION_DAYS",
    "Approval",
    "Config",
    "DefinitionPending",
    "EditRefused",
    "EditableConfig",
    "FieldView",
    "FormOrder",
    "FormView",
    "Proposal",
    "SecretInfo",
    "SiteSnapshot",
    "approve_proposal",
    "asking_order",
    "changed_engagement",
    "checked_config",
    "checked_edit",
    "config_history",
    "create_site",
    "current_config_yaml",
    "definition_changed",
    "definition_diff",
    "definition_of",
    "draft_form",
    "dump_config",
    "edit_config",
    "editable_config",
    "engagement_weights",
    "export_site_config",
    "find_proposal",
    "form_asking_orders",
    "generate_signing_secret",
    "import_site_config",
    "import_uploaded_config",
    "live_secrets",
    "may_decide",
    "move_field",
    "parse_config_text",
    "problems_for_entry",
    "proposal_config",
    "proposals_awaiting",
    "put_entry",
    "read_config_file",
    "readable_problems",
    "reject_proposal",
    "remembered_snapshot",
    "remove_destination",
    "remove_field",
    "remove_form",
    "remove_tier",
    "request_requalification",
    "restore_revision",
    "revision_diff",
    "rotate_generated_secret",
    "rotate_secret",
    "secrets_shown",
    "site_proposals",
    "site_snapshot",
]
