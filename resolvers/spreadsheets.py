"""Cells a spreadsheet would run: text that begins like a formula.

A CSV opened in Excel, LibreOffice or Google Sheets runs a cell that begins with `=`, `+`, `-`
or `@` (and, in some of them, a tab or carriage return before one) as a formula — a name typed
by a learner can become `=HYPERLINK(...)` in a compliance officer's spreadsheet (OWASP's "CSV
injection"). An export defuses such a cell with a leading `'`, which every one of them shows
as text; an import refuses it, so nothing stored is waiting to go off later.
"""

from __future__ import annotations

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(text: str) -> bool:
    return text.startswith(TRIGGERS)


def defused(text: str) -> str:
    """The cell as text a spreadsheet shows and never evaluates."""
    return f"'{text}" if formula_like(text) else text
