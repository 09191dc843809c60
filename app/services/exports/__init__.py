"""Exports for analysts: contacts and submission history streamed as CSV, JSON Lines or Parquet.

Inside: ``params`` (reading a request's filters), ``streams`` (the export, chunk by chunk),
``columns`` and ``queries`` (what a row holds, built in SQL), ``writers`` (the formats),
``csv_safety`` (cells a spreadsheet must not run as formulas).
"""

from app.services.exports.csv_safety import neutralise
from app.services.exports.params import FORMATS, export_choices
from app.services.exports.streams import Export, start_export

__all__ = ["FORMATS", "Export", "export_choices", "neutralise", "start_export"]
