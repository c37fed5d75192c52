"""Exported cells never become formulas.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or carriage return before one of them) as a formula: an org unit named ``=HYPERLINK("http://…")``
would put a live link into the county's export. Such text is written with a leading apostrophe,
which every spreadsheet shows as the plain text it is (OWASP "CSV injection"). Numbers stay numbers.
"""

from __future__ import annotations

from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def neutralise_row(values) -> list:
    return [neutralise(v) for v in values]
