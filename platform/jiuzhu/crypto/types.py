"""Column types that encrypt on the way into the database and decrypt on the way out.

``EncryptedText``, ``EncryptedJSON`` and ``EncryptedBytes`` are SQLAlchemy ``TypeDecorator``s:
the application reads and writes plain values, the database holds SM4-GCM envelopes
(:mod:`jiuzhu.crypto.cipher`) under the active field key. Each column names itself
(``"household_members.id_number"``) — checked against the table at start-up — and that name and the
current county are the ciphertext's associated data. Every read and write of tenant-owned rows
happens inside that county's scope (scoping fails closed otherwise), so the scope's tenant is the
row's tenant; migrations and the key rotation pass it explicitly.

An encrypted column cannot be compared, searched or sorted in SQL — the ciphertext is random — and
trying to raises :class:`EncryptedColumnError` instead of silently matching nothing: look it up
through its blind index (:func:`keep_blind_index`, filled at flush). ``IS NULL`` still works.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from sqlalchemy import LargeBinary, Text, event, inspect
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.types import TypeDecorator

from jiuzhu.crypto import blindindex
from jiuzhu.crypto.cipher import associated_data, decrypt_bytes, decrypt_text, encrypt_bytes, encrypt_text
from jiuzhu.crypto.keys import Keyring
from jiuzhu.tenancy.context import current_scope


class EncryptedColumnError(TypeError):
    """SQL tried to compare, search or sort an encrypted column."""


#: operators an encrypted column still supports: whether it is NULL
_ALLOWED = {operators.is_, operators.is_not}


def keyring() -> Keyring:
    return current_app.extensions["jiuzhu.keys"]


def _tenant() -> int | None:
    scope = current_scope()
    return None if scope is None else scope.tenant_id


class _Refusing(TypeDecorator.Comparator):
    def operate(self, op, *other, **kwargs):
        # ``IS NULL`` is fine; so is comparing the column object with another column, which is how
        # SQLAlchemy itself tests ``column in list``. A value (a search term, a list) is refused.
        if op in _ALLOWED or (other and all(isinstance(o, ColumnElement) and not isinstance(o, BindParameter)
                                            for o in other)):
            return super().operate(op, *other, **kwargs)
        raise EncryptedColumnError(f"{self.type.context} is encrypted: it cannot be compared, searched or "
                                   f"sorted in SQL (operator {getattr(op, '__name__', op)}); use its blind index")

    def reverse_operate(self, op, other, **kwargs):
        return self.operate(op, other, **kwargs)


class _Encrypted(TypeDecorator):
    cache_ok = True
    comparator_factory = _Refusing

    def __init__(self, context: str):
        super().__init__()
        #: ``table.column``: where the value lives, bound into its ciphertext
        self.context = context

    # what a plain value is as bytes, and back
    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def decode(self, raw: bytes) -> Any:
        raise NotImplementedError

    def encrypt(self, value: Any, tenant_id: int | None):
        """The stored form of ``value`` in ``tenant_id``'s row (rotation and migrations use this)."""
        return encrypt_text(keyring().field, self.encode(value), associated_data(self.context, tenant_id))

    def decrypt(self, stored, tenant_id: int | None) -> Any:
        return self.decode(decrypt_text(keyring().field, stored, associated_data(self.context, tenant_id),
                                        self.context))

    def process_bind_param(self, value, dialect):
        return None if value is None else self.encrypt(value, _tenant())

    def process_result_value(self, value, dialect):
        return None if value is None else self.decrypt(value, _tenant())

    def coerce_compared_value(self, op, value):
        return self


class EncryptedText(_Encrypted):
    """Text (an ID number, a phone, a note) stored as an SM4-GCM envelope in a ``text`` column."""

    impl = Text
    cache_ok = True

    def encode(self, value: Any) -> bytes:
        return str(value).encode("utf-8")

    def decode(self, raw: bytes) -> str:
        return raw.decode("utf-8")


class EncryptedJSON(_Encrypted):
    """A JSON value (a step's form data, an audit event's before/after) stored encrypted as text.
    The JSON is written compactly with non-ASCII kept; reading it back gives the same value."""

    impl = Text
    cache_ok = True

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")

    def decode(self, raw: bytes) -> Any:
        return json.loads(raw.decode("utf-8"))


class EncryptedBytes(_Encrypted):
    """Binary content (a scanned ID card, an uploaded roll) stored as a binary envelope."""

    impl = LargeBinary
    cache_ok = True

    def encode(self, value: Any) -> bytes:
        return bytes(value)

    def decode(self, raw: bytes) -> bytes:
        return raw

    def encrypt(self, value: Any, tenant_id: int | None):
        return encrypt_bytes(keyring().field, self.encode(value), associated_data(self.context, tenant_id))

    def decrypt(self, stored, tenant_id: int | None) -> Any:
        return decrypt_bytes(keyring().field, stored, associated_data(self.context, tenant_id), self.context)


ENCRYPTED_TYPES = (EncryptedText, EncryptedJSON, EncryptedBytes)


def encrypted_columns(metadata) -> list[tuple[Any, Any]]:
    """Every (table, column) whose type encrypts, in a stable order."""
    out = []
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        for column in table.columns:
            if isinstance(column.type, _Encrypted):
                out.append((table, column))
    return out


def check_contexts(metadata) -> None:
    """Each encrypted column names itself correctly (a copied declaration would bind its
    ciphertexts to another column and decrypt nowhere)."""
    for table, column in encrypted_columns(metadata):
        if column.type.context != f"{table.name}.{column.name}":
            raise RuntimeError(f"{table.name}.{column.name} is declared as encrypted under the name "
                               f"{column.type.context!r}; it must be {table.name}.{column.name!r}")


# -- blind indexes kept beside their column ----------------------------------------------------------

#: (class, value attribute, index attribute, kind), for the rotation of the blind-index key
BLIND_INDEXES: list[tuple[type, str, str, str]] = []


def keep_blind_index(cls: type, attribute: str, index_attribute: str, kind: str) -> None:
    """Before a row of ``cls`` is inserted, or updated with a new ``attribute``, set
    ``index_attribute`` to the value's blind index. At flush, not on assignment: a transient object
    (a disclosure test's household, a form's preview) needs no keys."""

    def fill(mapper, connection, target, *, inserting: bool) -> None:
        if not inserting and not inspect(target).attrs[attribute].history.has_changes():
            return
        value = getattr(target, attribute)
        setattr(target, index_attribute,
                None if value is None else blindindex.compute(keyring().blind_index, kind, value))

    event.listen(cls, "before_insert", lambda m, c, t: fill(m, c, t, inserting=True))
    event.listen(cls, "before_update", lambda m, c, t: fill(m, c, t, inserting=False))
    BLIND_INDEXES.append((cls, attribute, index_attribute, kind))


def index_candidates(kind: str, values) -> list[str]:
    """Every stored index the values may have (one per configured blind-index key)."""
    return blindindex.candidates(keyring().blind_index, kind, values)


__all__ = ["BLIND_INDEXES", "ENCRYPTED_TYPES", "EncryptedBytes", "EncryptedColumnError", "EncryptedJSON",
           "EncryptedText", "check_contexts", "encrypted_columns", "index_candidates", "keep_blind_index", "keyring"]
