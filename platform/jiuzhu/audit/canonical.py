"""The canonical JSON that event hashes are computed over.

A hash can only be recomputed years later if the bytes it covered can be rebuilt exactly from
what the database hands back. So every value is first reduced to plain JSON (:func:`jsonable`) —
the same reduced form is what gets stored — and then written one way only (:func:`canonical`):
sorted keys, no whitespace, UTF-8 characters as themselves.

Changing anything here changes every hash and breaks every existing chain; a test pins the format.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def jsonable(value: Any) -> Any:
    """Reduce ``value`` to str/int/float/bool/None/list/dict, deterministically.

    Aware datetimes become UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (the same instant always renders the
    same, whatever zone it came in); decimals keep their digits and never use an exponent; enums
    become their value. The result is a fixed point: ``jsonable(jsonable(x)) == jsonable(x)``.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        return value.isoformat(timespec="microseconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(v) for v in value), key=canonical)
    raise TypeError(f"the audit trail cannot record a value of type {type(value).__name__}: {value!r}")


def canonical(value: Any) -> str:
    """The one JSON text of ``value``: sorted keys, no whitespace, non-ASCII kept as is."""
    return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
