"""CSV cells a spreadsheet will not execute (CWE-1236, OWASP "CSV injection")."""

from __future__ import annotations

# Excel, LibreOffice and Google Sheets treat a cell starting with one of these as a formula
# (tab and CR too: some strip them and then read what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
