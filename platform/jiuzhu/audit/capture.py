"""Automatic capture: every flush of an :class:`Audited` model appends insert/update/delete events.

The listeners live beside the mixin on purpose: a model cannot be ``Audited`` without this module
imported, so capture cannot be silently off.

How a flush is recorded, on :class:`~jiuzhu.tenancy.scoping.ScopedSession`:

* ``before_flush`` — if the flush touches audited rows, lock the tenant's chain head *before* the
  row writes (taking it after them could deadlock against a transaction that holds the head and
  wants one of those rows); load every column of rows about to be deleted, so the event can hold
  the whole row; refuse ORM changes to audit events themselves.
* ``after_flush`` — new ids are known and the attribute history is still intact (SQLAlchemy resets
  it only after this hook), so the events are built and appended here, with plain INSERT
  statements on the flush's own connection: same transaction, nothing added to the unit of work
  mid-flush. A rollback removes them with the change; an error here fails the flush.

Old values: every audited column is given ``active_history``, so assigning to an attribute that
was expired (after a commit) loads the old value first, and the event can say what it was.

Not captured: bulk ``update()``/``delete()`` statements, which bypass the unit of work, and rows
outside a tenant (the platform operator's own account: there is no platform chain).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import event, inspect

from jiuzhu.audit.chain import Entry, append, lock_head
from jiuzhu.audit.models import AuditEvent
from jiuzhu.tenancy.context import current_scope
from jiuzhu.tenancy.scoping import ScopedSession

#: stands in for the value of an excluded column (a password hash): the event shows that it was
#: set or changed, never what it is
REDACTED = "（已隐去）"

#: columns never put in before/after: every event carries its tenant already
NOT_RECORDED = frozenset({"tenant_id"})

_ACTION_ORDER = {"insert": 0, "update": 1, "delete": 2}


class AppendOnlyError(RuntimeError):
    """Someone tried to change or delete an audit event through the ORM."""


class Audited:
    """A tenant-owned model whose every insert, update and delete is recorded in the audit trail.

    ``__audit_entity__``: the ``entity_type`` of its events (default: the table name).
    ``__audit_exclude__``: columns whose values are never recorded; a change shows as :data:`REDACTED`.
    ``__audit_ignore__``: bookkeeping columns that are not audited at all (a change to only these
    records nothing).
    Override ``audit_case_id`` to file the events in a case's timeline.
    """

    __audit_entity__: ClassVar[str | None] = None
    __audit_exclude__: ClassVar[frozenset[str]] = frozenset()
    __audit_ignore__: ClassVar[frozenset[str]] = frozenset()

    @property
    def audit_case_id(self) -> int | None:
        return None

    @classmethod
    def audit_entity_type(cls) -> str:
        return cls.__audit_entity__ or cls.__tablename__


def _recorded_keys(obj: Audited) -> list[str]:
    cls = type(obj)
    skip = NOT_RECORDED | cls.__audit_ignore__
    return [p.key for p in inspect(cls).column_attrs if p.key not in skip]


def _shown(obj: Audited, key: str, value: Any) -> Any:
    return REDACTED if key in type(obj).__audit_exclude__ else value


def _whole_row(obj: Audited) -> dict[str, Any]:
    """Every recorded column. A column never assigned and with no server-side default was stored
    as NULL; one the database filled in is left out rather than loaded in the middle of a flush."""
    mapper = inspect(type(obj))
    values = inspect(obj).dict
    row = {}
    for key in _recorded_keys(obj):
        if key in values:
            row[key] = _shown(obj, key, values[key])
        elif all(c.server_default is None for c in mapper.column_attrs[key].columns):
            row[key] = None
    return row


def _changes(obj: Audited) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before, after = {}, {}
    for key in _recorded_keys(obj):
        hist = state.attrs[key].history
        if not hist.added and not hist.deleted:
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if old == new:
            continue
        before[key], after[key] = _shown(obj, key, old), _shown(obj, key, new)
    return before, after


def _entry(obj: Audited, action: str, before=None, after=None) -> Entry:
    pk = inspect(type(obj)).primary_key_from_instance(obj)
    return Entry(entity_type=obj.audit_entity_type(), entity_id=",".join(str(v) for v in pk), action=action,
                 before=before, after=after, case_id=obj.audit_case_id)


def _touches_audited_columns(obj: Audited) -> bool:
    """Whether a dirty object has a change that may be audited (relationships count: a changed
    many-to-one becomes a changed foreign key during the flush)."""
    skip = NOT_RECORDED | type(obj).__audit_ignore__
    return any(attr.key not in skip and attr.history.has_changes() for attr in inspect(obj).attrs)


def _chain_tenant() -> int | None:
    scope = current_scope()
    return None if scope is None else scope.tenant_id


@event.listens_for(ScopedSession, "before_flush")
def _before_flush(session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError("审计记录只能追加，不能修改或删除。")
    audited = False
    for obj in session.deleted:
        if isinstance(obj, Audited):
            for key in inspect(obj).unloaded & set(_recorded_keys(obj)):
                getattr(obj, key)  # expired after a commit: load the row the event will hold
            audited = True
    audited = audited or any(isinstance(obj, Audited) for obj in session.new) or any(
        isinstance(obj, Audited) and _touches_audited_columns(obj) for obj in session.dirty)
    tenant_id = _chain_tenant()
    if audited and tenant_id is not None:
        lock_head(session, tenant_id)


@event.listens_for(ScopedSession, "after_flush")
def _after_flush(session, flush_context) -> None:
    tenant_id = _chain_tenant()
    if tenant_id is None:
        return
    entries: list[tuple[tuple, Entry]] = []

    def add(entry: Entry) -> None:
        # A stable order within the flush: inserts, updates, deletes; then by entity, ids numerically.
        key = (_ACTION_ORDER[entry.action], entry.entity_type, len(entry.entity_id), entry.entity_id)
        entries.append((key, entry))

    for obj in session.new:
        if isinstance(obj, Audited) and obj.tenant_id is not None:
            add(_entry(obj, "insert", after=_whole_row(obj)))
    for obj in session.dirty:
        if isinstance(obj, Audited) and obj.tenant_id is not None:
            before, after = _changes(obj)
            if after or before:
                add(_entry(obj, "update", before=before, after=after))
    for obj in session.deleted:
        if isinstance(obj, Audited) and obj.tenant_id is not None:
            add(_entry(obj, "delete", before=_whole_row(obj)))
    if entries:
        entries.sort(key=lambda item: item[0])
        append(session, tenant_id, [entry for _, entry in entries])


def _old_value_wanted(target, value, oldvalue, initiator) -> None:
    pass  # the listener exists for its active_history flag


@event.listens_for(Audited, "mapper_configured", propagate=True)
def _want_old_values(mapper, cls) -> None:
    """Load the old value of an expired column before it is overwritten, so updates show it."""
    for prop in mapper.column_attrs:
        event.listen(prop.class_attribute, "set", _old_value_wanted, active_history=True)


__all__ = ["AppendOnlyError", "Audited", "REDACTED"]
