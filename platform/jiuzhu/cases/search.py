"""案件查询's search: the households whose member is named by part of the words typed, or whose member's
ID number they are.

A name has no digit and an ID number always has them, so the words typed are looked up as one or
the other, never both: an ID number exactly, through its blind index (the number is encrypted); a
name by its part. Both at once (``name LIKE … OR id_number_bidx IN …``) read every member of the
county for each search, the ID number's too: 0.49–0.53 s at 1,000,000 cases.

A name's part of two characters or more is looked up by its pairs of adjacent characters
(:class:`~jiuzhu.cases.households.MemberNameGram`, a btree on the county and the key): the members
that have every pair of it, whose names are then checked. ``name LIKE '%…%'`` alone, which no index
serves, walked the county's cases newest first under row-level security: 0.3–1.7 s at 1,000,000 cases.

One character (a surname typed alone) is first looked for among the names of the listing's first
cases (:data:`NEWEST`, in the listing's order): a common one fills the page there, and a listing no
longer than that (a village's) is read whole. Otherwise it is looked up by the keys that
begin with it — every character of a name begins one of its keys (a pair, or the last character
alone), and the keys sort by code point, so they are one range of the index. Neither way alone is
quick for every character: reading the names walked every case of the county when no name had the
character (0.6 s for a township's staff, 1.5 s for the county's, at 1,000,000 cases), and the keys of
a surname one member in fifty has are tens of thousands (0.25–0.7 s). The demo's SQLite (no keys
kept) reads the names.
"""

from __future__ import annotations

from sqlalchemy import func, select


def pairs_of(words: str) -> set[str]:
    """The distinct pairs of adjacent characters of ``words`` (none for a single character)."""
    return {words[i:i + 2] for i in range(len(words) - 1)}


def keys_of(name: str) -> set[str]:
    """The keys the database keeps for a member's ``name`` (migration 0082): its pairs of adjacent
    characters, and its last character alone."""
    return pairs_of(name) | ({name[-1]} if name else set())


def following(character: str) -> str:
    """The character after ``character`` in code-point order (past the surrogates, which no text
    holds): the keys beginning with ``character`` are those from it up to this one."""
    after = ord(character) + 1
    if 0xD800 <= after <= 0xDFFF:
        after = 0xE000
    return chr(after) if after <= 0x10FFFF else character + "\U0010FFFF"


#: how many of a listing's first cases (newest first) a one-character search reads the names of
#: before it looks the character up by its keys (about 30–50 ms at 1,000,000 cases; a character in one
#: name in forty fills a page of fifty there)
NEWEST = 2000


def reads_newest_first(search: str) -> bool:
    """Whether ``search`` is looked for first among the newest cases' names: one character, not a
    digit (a digit is part of an ID number), where the keys are kept (PostgreSQL)."""
    from jiuzhu.extensions import db

    return len(search) == 1 and not search.isdigit() and db.engine.dialect.name == "postgresql"


def households_named(search: str):
    """A select of the ids of the households with a member whose name contains ``search`` (as typed),
    reading the names."""
    from jiuzhu.cases.households import Member

    return select(Member.household_id).where(Member.name.contains(search, autoescape=True))


def page_among_first(session, listing, search: str, limit: int, options=()):
    """The first ``limit`` rows of ``listing`` (a select of ``Case`` and columns of its, in the
    listing's order) whose household has a member whose name contains ``search``, looked for among
    the listing's first :data:`NEWEST` cases only — a page found there is the listing's first page,
    every later match coming after. None when they hold fewer rows and the listing has more cases
    than were read: the keys must be asked (:func:`households_matching`).

    The cases read are a ``WITH`` the page also counts, so whether there were more is known from any
    row found; only when none was is it asked."""
    from jiuzhu.cases.models import Case

    first = listing.with_only_columns(Case.id)
    read = first.limit(NEWEST).cte("first_cases")
    found = session.execute(
        listing.add_columns(select(func.count()).select_from(read).scalar_subquery())
        .where(Case.id.in_(select(read.c.id)), Case.household_id.in_(households_named(search)))
        .options(*options).limit(limit)).all()
    if len(found) < limit and (found[0][-1] >= NEWEST if found
                               else session.scalar(first.offset(NEWEST - 1).limit(1)) is not None):
        return None
    return [row[:-1] for row in found]


def households_matching(search: str):
    """A select of the ids of the households with a member whose ID number is ``search`` (when it has a
    digit) or whose name contains it (as typed: ``%`` and ``_`` are plain characters). The scope's
    criteria apply to the members and their pairs as to any statement of the session."""
    from jiuzhu.cases.households import Member, MemberNameGram
    from jiuzhu.crypto.types import index_candidates
    from jiuzhu.extensions import db

    if any(c.isdigit() for c in search):
        return select(Member.household_id).where(Member.id_number_bidx.in_(index_candidates("id_number", search)))
    named = households_named(search)
    if db.engine.dialect.name != "postgresql":
        return named
    if len(search) == 1:
        beginning = (select(MemberNameGram.member_id)
                     .where(MemberNameGram.gram >= search, MemberNameGram.gram < following(search)))
        return named.where(Member.id.in_(beginning))
    pairs = pairs_of(search)
    having_all = (select(MemberNameGram.member_id).where(MemberNameGram.gram.in_(sorted(pairs)))
                  .group_by(MemberNameGram.member_id).having(func.count() == len(pairs)))
    return named.where(Member.id.in_(having_all))
