"""案件查询's search: the households whose member is named by part of the words typed, or whose member's
ID number they are.

A name has no digit and an ID number always has them, so the words typed are looked up as one or
the other, never both: an ID number exactly, through its blind index (the number is encrypted); a
name by its part. Both at once (``name LIKE … OR id_number_bidx IN …``) read every member of the
county for each search, the ID number's too: 0.49–0.53 s at 1,000,000 cases.

A name's part of two characters or more is looked up by its pairs of adjacent characters
(:class:`~jiuzhu.cases.households.MemberNameGram`, a btree on the county and the pair): the members
that have every pair of it, whose names are then checked. ``name LIKE '%…%'`` alone, which no index
serves, walked the county's cases newest first under row-level security: 0.3–1.7 s at 1,000,000 cases.
One character, and the demo's SQLite (no pairs kept), still read the names.
"""

from __future__ import annotations

from sqlalchemy import func, select


def pairs_of(words: str) -> set[str]:
    """The distinct pairs of adjacent characters of ``words`` (none for a single character)."""
    return {words[i:i + 2] for i in range(len(words) - 1)}


def households_matching(search: str):
    """A select of the ids of the households with a member whose ID number is ``search`` (when it has a
    digit) or whose name contains it (as typed: ``%`` and ``_`` are plain characters). The scope's
    criteria apply to the members and their pairs as to any statement of the session."""
    from jiuzhu.cases.households import Member, MemberNameGram
    from jiuzhu.crypto.types import index_candidates
    from jiuzhu.extensions import db

    if any(c.isdigit() for c in search):
        return select(Member.household_id).where(Member.id_number_bidx.in_(index_candidates("id_number", search)))
    named = select(Member.household_id).where(Member.name.contains(search, autoescape=True))
    pairs = pairs_of(search)
    if not pairs or db.engine.dialect.name != "postgresql":
        return named
    having_all = (select(MemberNameGram.member_id).where(MemberNameGram.gram.in_(sorted(pairs)))
                  .group_by(MemberNameGram.member_id).having(func.count() == len(pairs)))
    return named.where(Member.id.in_(having_all))
