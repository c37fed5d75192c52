"""Key rotation, online: every value moved to the active key while the application keeps running.

``rotate_fields`` walks every encrypted column of every county (and the platform's own rows) in
batches of ``batch`` rows, ordered by id, and re-encrypts each value that is not under the active
field key. Each batch is one short transaction, committed before the next.

* **Resumable.** The state is the data itself: a value under the active key is never picked again
  (the query asks only for values under other keys), so a rotation stopped anywhere and started
  again carries on with what is left and redoes nothing.
* **Safe beside writers.** Each value is written back only if the column still holds the very
  ciphertext that was read (compare-and-set in the UPDATE); a value a user changed in the meantime
  was written under the active key by that user and is left alone. The UPDATE touches no other
  column — not the optimistic-lock ``version`` of cases and steps — so nobody's edit is refused
  because of the rotation, and nothing is lost. Rotation writes bypass the ORM and are not row
  changes for the audit trail; each county's rotation is recorded as one event instead.
* **Audit payloads** are re-encrypted through ``jiuzhu_audit_reencrypt`` on PostgreSQL, the one
  UPDATE the append-only trigger admits (payload columns only); their keyed hashes cover the plain
  payload and do not change.

``rotate_blind_indexes`` recomputes blind indexes under the active blind-index key the same way.
Lookups ask for every configured key's index meanwhile, so search and duplicate checks keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, text

from jiuzhu.crypto.cipher import BINARY_PREFIX, PREFIX
from jiuzhu.crypto.types import BLIND_INDEXES, EncryptedBytes, encrypted_columns, keyring
from jiuzhu.tenancy.context import Scope, use_scope

#: audit payload columns, re-encrypted through the definer function on PostgreSQL
AUDIT_TABLE = "audit_events"


def _key_id_sql(column: str, binary: bool, dialect: str) -> str:
    """SQL giving the key id of a stored envelope (NULL when the value is not an envelope)."""
    c = f'"{column}"'
    if dialect == "postgresql":
        if binary:
            return (f"CASE WHEN substring({c} from 1 for 3) = '\\x45312e'::bytea THEN "
                    f"encode(substring({c} from 4 for position('\\x2e'::bytea in substring({c} from 4 for 17)) - 1),"
                    f" 'escape') END")
        return f"CASE WHEN {c} LIKE 'E1.%' THEN split_part({c}, '.', 2) END"
    if binary:
        return (f"CASE WHEN substr({c}, 1, 3) = X'45312E' THEN "
                f"CAST(substr({c}, 4, instr(substr({c}, 4, 17), X'2E') - 1) AS TEXT) END")
    return f"CASE WHEN {c} LIKE 'E1.%' THEN substr({c}, 4, instr(substr({c}, 4), '.') - 1) END"


def _not_under(column: str, binary: bool, key_id: str, dialect: str) -> str:
    """SQL true when the column holds a value not encrypted under ``key_id``."""
    c = f'"{column}"'
    prefix = f"{PREFIX}{key_id}."
    if binary:
        hexed = (BINARY_PREFIX + key_id.encode() + b".").hex()
        literal = f"'\\x{hexed}'::bytea" if dialect == "postgresql" else f"X'{hexed}'"
        fn = "substring" if dialect == "postgresql" else "substr"
        return f"({c} IS NOT NULL AND {fn}({c}, 1, {len(prefix)}) <> {literal})"
    return f"({c} IS NOT NULL AND {c} NOT LIKE '{prefix}%')"


def _tenant_clause(tenant_id: int | None) -> str:
    return "tenant_id IS NULL" if tenant_id is None else "tenant_id = :tenant"


def _scopes(session, tenant_ids: list[int] | None) -> list[int | None]:
    """Every county, then the platform's own rows (the operator's account)."""
    from jiuzhu.tenancy.models import Tenant

    if tenant_ids is None:
        with use_scope(Scope.platform()):
            tenant_ids = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
            session.rollback()
        return [*tenant_ids, None]
    return list(tenant_ids)


@dataclass
class ColumnCount:
    table: str
    column: str
    #: key id → values (None: a value that is not an envelope — clear text where ciphertext belongs)
    counts: dict[str | None, int] = field(default_factory=dict)


def _grouped(session, table: str, column: str, expr: str, tenant_id: int | None) -> dict[str | None, int]:
    rows = session.execute(text(f'SELECT {expr} AS k, count(*) AS n FROM {table} WHERE {_tenant_clause(tenant_id)} '
                                f'AND "{column}" IS NOT NULL GROUP BY 1'), {"tenant": tenant_id}).all()
    return {row.k: row.n for row in rows}


def field_status(session, metadata, tenant_ids: list[int] | None = None) -> list[ColumnCount]:
    """How many values of each encrypted column are under each field key, over every county."""
    dialect = session.get_bind().dialect.name
    out = {(t.name, c.name): ColumnCount(t.name, c.name) for t, c in encrypted_columns(metadata)}
    for tenant_id in _scopes(session, tenant_ids):
        with use_scope(Scope(tenant_id)):
            for table, column in encrypted_columns(metadata):
                if tenant_id is None and table.name != "users":
                    continue
                expr = _key_id_sql(column.name, isinstance(column.type, EncryptedBytes), dialect)
                for key_id, n in _grouped(session, table.name, column.name, expr, tenant_id).items():
                    counts = out[(table.name, column.name)].counts
                    counts[key_id] = counts.get(key_id, 0) + n
            session.rollback()
    return list(out.values())


def index_status(session, tenant_ids: list[int] | None = None) -> dict[str, dict[str | None, int]]:
    """Blind indexes per key id (``table.column`` → key id → rows), and audit events per audit key."""
    out: dict[str, dict[str | None, int]] = {}
    targets = [(cls.__table__.name, index_attr) for cls, _, index_attr, _ in BLIND_INDEXES]
    for tenant_id in _scopes(session, tenant_ids):
        if tenant_id is None:
            continue
        with use_scope(Scope(tenant_id)):
            for table, column in targets:
                dot = (f"""strpos("{column}", '.')""" if session.get_bind().dialect.name == "postgresql"
                       else f"""instr("{column}", '.')""")
                expr = f'CASE WHEN {dot} > 0 THEN substr("{column}", 1, {dot} - 1) END'
                for key_id, n in _grouped(session, table, column, expr, tenant_id).items():
                    counts = out.setdefault(f"{table}.{column}", {})
                    counts[key_id] = counts.get(key_id, 0) + n
            for key_id, n in _grouped(session, AUDIT_TABLE, "key_id", '"key_id"', tenant_id).items():
                counts = out.setdefault("audit_events.key_id", {})
                counts[key_id] = counts.get(key_id, 0) + n
            session.rollback()
    return out


@dataclass
class RotationReport:
    #: values re-encrypted (or indexes recomputed)
    done: int = 0
    #: (tenant id, table) → values done
    by_table: dict[tuple[int | None, str], int] = field(default_factory=dict)
    #: tables where values under another key remained after the last pass (a process that has not
    #: loaded the new key yet keeps writing under the old one: restart it, rotate again)
    unfinished: set[tuple[int | None, str]] = field(default_factory=set)
    #: stopped by ``max_batches`` before the end (run again to carry on)
    stopped: bool = False


#: passes over a table: rows a writer held locked during one pass are taken in the next
MAX_PASSES = 5


class Stopped(Exception):
    """The batch budget ran out (``max_batches``): the rotation stops after a committed batch."""


class _Budget:
    def __init__(self, max_batches: int | None):
        self.left = max_batches

    def spend(self) -> None:
        """Called after each committed batch."""
        if self.left is not None:
            self.left -= 1
            if self.left <= 0:
                raise Stopped


def _locking(dialect: str, table: str) -> str:
    """Take the batch's rows, skipping those a writer holds: the rotation never waits on a user
    (so never deadlocks with one); a skipped row is taken in the next pass. Audit events are
    append-only — nobody else holds them, and the application role may not lock them."""
    return " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" and table != AUDIT_TABLE else ""


def _rotate_table(session, table, columns, tenant_id, active: str, batch: int,
                  progress: Callable[[str], None] | None, budget: _Budget, report: RotationReport) -> bool:
    """Re-encrypt the table's stale values of one county; True when values under other keys remain."""
    dialect = session.get_bind().dialect.name
    binary = {c.name: isinstance(c.type, EncryptedBytes) for c in columns}
    stale = " OR ".join(_not_under(c.name, binary[c.name], active, dialect) for c in columns)
    names = ", ".join(f'"{c.name}"' for c in columns)
    audit_via_function = table.name == AUDIT_TABLE and dialect == "postgresql"
    select_batch = text(f"SELECT id, {names} FROM {table.name} WHERE {_tenant_clause(tenant_id)} AND id > :last "
                        f"AND ({stale}) ORDER BY id LIMIT :batch{_locking(dialect, table.name)}")
    key = (tenant_id, table.name)
    for _ in range(MAX_PASSES):
        seen, last = 0, 0
        while True:
            rows = session.execute(select_batch, {"tenant": tenant_id, "last": last, "batch": batch}).all()
            if not rows:
                break
            seen += len(rows)
            n = _rotate_rows(session, table, columns, binary, rows, tenant_id, active, audit_via_function)
            last = rows[-1].id
            session.commit()
            report.done += n
            report.by_table[key] = report.by_table.get(key, 0) + n
            if progress:
                progress(f"{table.name}：{report.by_table[key]}")
            budget.spend()
        session.commit()
        if not seen:
            return False
    left = session.execute(text(f"SELECT 1 FROM {table.name} WHERE {_tenant_clause(tenant_id)} AND ({stale}) "
                                f"LIMIT 1"), {"tenant": tenant_id}).first()
    session.commit()
    return left is not None


def _rotate_rows(session, table, columns, binary, rows, tenant_id, active, audit_via_function) -> int:
    """Re-encrypt one batch; returns the values written. Rows needing the same columns are written
    with one executemany (one round trip for the batch, not one per row)."""
    updates: dict[tuple[str, ...], list[dict]] = {}
    done = 0
    for row in rows:
        old = {c.name: row._mapping[c.name] for c in columns}
        new = {}
        for c in columns:
            value = old[c.name]
            stale = value is not None and not _under(value, binary[c.name], active)
            new[c.name] = c.type.encrypt(c.type.decrypt(value, tenant_id), tenant_id) if stale else value
        changed = tuple(c.name for c in columns if new[c.name] is not old[c.name])
        if not changed:
            continue
        if audit_via_function:
            # the one UPDATE the append-only trigger admits: the payload, compared and set by the owner's function
            ok = session.execute(text("SELECT jiuzhu_audit_reencrypt(:id, :ob, :oa, :orr, :nb, :na, :nr)"),
                                 {"id": row.id, "ob": old["before"], "oa": old["after"], "orr": old["reason"],
                                  "nb": new["before"], "na": new["after"], "nr": new["reason"]}).scalar()
            done += len(changed) if ok else 0
            continue
        params = {"id": row.id}
        for i, name in enumerate(changed):
            params[f"old{i}"], params[f"new{i}"] = old[name], new[name]
        updates.setdefault(changed, []).append(params)
        done += len(changed)
    for changed, params in updates.items():
        # compare-and-set: a column is written only if it still holds what was read
        sets = ", ".join(f'"{name}" = CASE WHEN "{name}" = :old{i} THEN :new{i} ELSE "{name}" END'
                         for i, name in enumerate(changed))
        session.execute(text(f"UPDATE {table.name} SET {sets} WHERE id = :id"), params)
    return done


def _under(value, binary: bool, key_id: str) -> bool:
    if binary:
        return bytes(value).startswith(BINARY_PREFIX + key_id.encode() + b".")
    return isinstance(value, str) and value.startswith(f"{PREFIX}{key_id}.")


def rotate_fields(session, metadata, *, tenant_ids: list[int] | None = None, batch: int = 500,
                  progress: Callable[[str], None] | None = None, max_batches: int | None = None) -> RotationReport:
    """Re-encrypt every value not under the active field key (see the module doc). ``max_batches``:
    stop after that many committed batches (``report.stopped``); the next run carries on."""
    from jiuzhu.audit import record

    active = keyring().field.active_id
    report = RotationReport()
    budget = _Budget(max_batches)
    by_table: dict = {}
    for table, column in encrypted_columns(metadata):
        by_table.setdefault(table.name, (table, []))[1].append(column)
    for tenant_id in _scopes(session, tenant_ids):
        with use_scope(Scope(tenant_id)):
            before = report.done
            try:
                for name, (table, columns) in by_table.items():
                    if tenant_id is None and name != "users":
                        continue
                    if _rotate_table(session, table, columns, tenant_id, active, batch, progress, budget, report):
                        report.unfinished.add((tenant_id, name))
            except Stopped:
                report.stopped = True
            if tenant_id is not None and report.done > before:
                record(session, entity_type="keys", entity_id=active, action="rotate_field_key",
                       after={"values": report.done - before})
                session.commit()
            session.rollback()
        if report.stopped:
            break
    return report


def rotate_blind_indexes(session, *, tenant_ids: list[int] | None = None, batch: int = 500,
                         progress: Callable[[str], None] | None = None,
                         max_batches: int | None = None) -> RotationReport:
    """Recompute every blind index not under the active blind-index key."""
    from jiuzhu.audit import record

    keys = keyring().blind_index
    active = keys.active_id
    report = RotationReport()
    budget = _Budget(max_batches)
    for tenant_id in _scopes(session, tenant_ids):
        if tenant_id is None:
            continue
        with use_scope(Scope(tenant_id)):
            before = report.done
            try:
                _rotate_indexes(session, tenant_id, keys, batch, progress, budget, report)
            except Stopped:
                report.stopped = True
            if report.done > before:
                record(session, entity_type="keys", entity_id=active, action="rotate_blind_index_key",
                       after={"indexes": report.done - before})
                session.commit()
            session.rollback()
        if report.stopped:
            break
    return report


def _rotate_indexes(session, tenant_id, keys, batch, progress, budget: _Budget, report: RotationReport) -> None:
    from jiuzhu.crypto import blindindex

    active = keys.active_id
    for cls, attribute, index_attr, kind in BLIND_INDEXES:
        table = cls.__table__
        value_type = table.c[attribute].type
        lock = _locking(session.get_bind().dialect.name, table.name)
        select_batch = text(
            f'SELECT id, "{attribute}" AS v, "{index_attr}" AS ix FROM {table.name} '
            f'WHERE tenant_id = :tenant AND id > :last AND "{index_attr}" NOT LIKE :prefix '
            f"ORDER BY id LIMIT :batch{lock}")
        update_one = text(f'UPDATE {table.name} SET "{index_attr}" = :new WHERE id = :id '
                          f'AND "{index_attr}" = :old')
        done_here = 0
        for _ in range(MAX_PASSES):
            seen, last = 0, 0
            while True:
                rows = session.execute(select_batch, {"tenant": tenant_id, "last": last,
                                                      "prefix": f"{active}.%", "batch": batch}).all()
                if not rows:
                    break
                seen += len(rows)
                # rows are held (FOR UPDATE) from the read: the compare-and-set holds for each of them
                session.execute(update_one, [{"new": blindindex.compute(keys, kind, value_type.decrypt(row.v, tenant_id)),
                                              "id": row.id, "old": row.ix} for row in rows])
                n = len(rows)
                last = rows[-1].id
                session.commit()
                done_here += n
                report.done += n
                report.by_table[(tenant_id, table.name)] = done_here
                if progress:
                    progress(f"{table.name}.{index_attr}：{done_here}")
                budget.spend()
            session.commit()
            if not seen:
                break
        else:
            report.unfinished.add((tenant_id, table.name))


__all__ = ["ColumnCount", "RotationReport", "Stopped", "field_status", "index_status", "rotate_blind_indexes",
           "rotate_fields"]
