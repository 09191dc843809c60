"""Services: load rows, ask the domain, write, commit. One package per capability; each
package's ``__init__`` names the verbs that views, the CLI and other packages may call.

- ``siteconfig/``  a site's definition: config file import/export, console edits, history, secrets, snapshots
- ``people/``      contacts and browsers, values, identity, engagement, stages, everything held on a person
- ``asking/``      ask, submit, the console's live preview, explain
- ``delivery/``    the outbox sent downstream: worker, attempts, signed HTTP, operating destinations, status
- ``exports/``     contact and history exports streamed as CSV, JSON Lines, Parquet
- ``privacy/``     consent, data-subject access and erasure, retention
- ``insights/``    what the console reads: overview, contact pages, dashboard charts, question counters
- ``sales/``       what sales report back: outcomes and the stage moves they cause
- ``accounts/``    console users and API tokens

Shared ground, at this root: ``errors`` (service errors), ``transactions`` (``commit_unit``),
``tokens`` (signed visitor and ask tokens), ``outbox`` (``record_outbox``, ``follow_merge``),
``addresses`` (private-network checks), ``counters`` (daily counters kept in memory and flushed
in batches: the question counters' machinery, and the per-form views and asks that ``people``
and ``asking`` count and ``insights`` reads).
"""
