"""案件查询's search: the households whose member is named by part of the words typed, or whose member's
ID number they are.

A name has no digit and an ID number always has them, so the words typed are looked up as one or
the other, never both: an ID number exactly, through its blind index (the number is encrypted); a
name by its part. Both at once (``name LIKE … OR id_number_bidx IN …``) read every member of the
county for each search, the ID number's too: 0.49–0.53 s at 1,000,000 cases.
"""

from __future__ import annotations

from sqlalchemy import select


def households_matching(search: str):
    """A select of the ids of the households with a member whose ID number is ``search`` (when it has a
    digit) or whose name contains it (as typed: ``%`` and ``_`` are plain characters). The scope's
    criteria apply to the members as to any statement of the session."""
    from jiuzhu.cases.households import Member
    from jiuzhu.crypto.types import index_candidates

    if any(c.isdigit() for c in search):
        return select(Member.household_id).where(Member.id_number_bidx.in_(index_candidates("id_number", search)))
    return select(Member.household_id).where(Member.name.contains(search, autoescape=True))
