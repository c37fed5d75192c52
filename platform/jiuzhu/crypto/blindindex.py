"""Blind indexes: HMAC-SM3 of a normalised value, for exact lookups of encrypted columns.

An index is ``<key id>.<hex HMAC-SM3(key, "<kind>:<normalised value>")>``. Equal values give equal
indexes under one key, and nothing about the value can be learnt from an index without the key.
The key is the platform's ``blind_index`` key, the same for every county: equal ID numbers match
across counties, which the duplicate-benefit registry (one SECURITY DEFINER function over blind
indexes) relies on. ``kind`` separates the uses, so an ID number and a phone never share an index.

While a new blind-index key is being rolled in, rows carry indexes under either key; a lookup
therefore asks for the index under every configured key (:func:`candidates`), and
``flask keys rotate --blind-index`` recomputes the rows under the active one.
"""

from __future__ import annotations

from collections.abc import Iterable

from jiuzhu.crypto.cipher import hmac_sm3
from jiuzhu.crypto.keys import KeySet

#: what the stored column may hold at most: a 16-character key id, a dot, 64 hex digits
INDEX_LENGTH = 96


def normalise_id_number(raw: str) -> str:
    """As :func:`jiuzhu.cases.idcard.parse_id_number` stores it: no spaces, upper-case X."""
    return (raw or "").strip().upper().replace(" ", "")


NORMALISERS = {"id_number": normalise_id_number}


def compute(keys: KeySet, kind: str, value: str, key_id: str | None = None) -> str:
    """The index of ``value`` under ``key_id`` (default: the active key)."""
    key_id = key_id or keys.active_id
    normalised = NORMALISERS[kind](value)
    return f"{key_id}.{hmac_sm3(keys.get(key_id), f'{kind}:{normalised}'.encode())}"


def candidates(keys: KeySet, kind: str, values: str | Iterable[str]) -> list[str]:
    """Every index the values may be stored under (one per configured key): ``column IN (…)``."""
    if isinstance(values, str):
        values = [values]
    return [compute(keys, kind, v, key_id) for v in values for key_id in keys.ids]


__all__ = ["INDEX_LENGTH", "candidates", "compute", "normalise_id_number"]
