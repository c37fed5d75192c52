"""A county's data out and back: ``flask --app wsgi tenants export|import|purge``.

**The archive** (``*.jzca``) is one file: a clear header line, then the payload encrypted with
SM4-GCM under a key derived (scrypt) from a passphrase read from the environment
(``JIUZHU_ARCHIVE_PASSPHRASE``, never the command line). The header — format, KDF parameters, salt,
nonce, county code — is the cipher's associated data, so nothing in the file can be changed
unnoticed. The payload is a ZIP of ``manifest.json`` and ``tables/<table>.jsonl``: every row of
every table that carries the county's ``tenant_id``, with personal data in the clear *inside* the
encrypted archive (the instance's field keys stay on the instance). The manifest holds each table's
row count and SHA-256, the SHA-256 of every stored file's content, and the county's audit head;
its own SHA-256 is the export's checksum, recorded in the platform log.

**Export** verifies the county's audit chain first and refuses a broken one.

**Import** writes the county into this instance in one transaction, as a new tenant:

* ids are **remapped**: every row gets a fresh id from the target table's own sequence, and every
  reference to it (foreign keys, and the few references without one: audit events' entity and case,
  reminders' subject, the access log's subject) follows — so a county lands beside others without
  colliding, whatever ids they use;
* personal data is encrypted afresh under the target's field key and the target county's id, blind
  indexes are recomputed under the target's blind-index key;
* the audit chain is re-keyed: the events keep their content, order and times, ids follow the
  remapping, and every hash is recomputed under the target's audit key; a last event records the
  import (source instance, the source chain's head, the archive's checksum), and the new head is
  anchored when ``JIUZHU_AUDIT_ANCHOR_DIR`` is set. The source hashes stay in the archive.

**Purge** removes every row of the county in one transaction as the database owner (the one place
the append-only trigger of ``audit_events`` is disabled, inside that transaction), after checking
that an export of exactly the current data exists: the archive decrypts, its checksums hold, it is
the one the platform log recorded, and its counts and audit head equal the database's. ``--force``
skips the check. The county's anchors are moved aside (``<code>.purged-<time>``): they anchor a
chain that is gone. Other counties are not touched.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from flask import current_app
from sqlalchemy import (
    Date,
    DateTime,
    Enum,
    LargeBinary,
    Numeric,
    Table,
    create_engine,
    func,
    insert,
    select,
    text,
)

from jiuzhu.audit import platform_log
from jiuzhu.audit.chain import GENESIS, Entry, append, event_hash
from jiuzhu.crypto import blindindex
from jiuzhu.crypto.types import BLIND_INDEXES, EncryptedBytes, EncryptedJSON, keyring
from jiuzhu.errors import ValidationError
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.scoping import _sync_rls

FORMAT = "jiuzhu-county-archive/1"
MAGIC = b"JIUZHU-COUNTY-ARCHIVE/1\n"
PASSPHRASE_ENV = "JIUZHU_ARCHIVE_PASSPHRASE"
MIN_PASSPHRASE = 12
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1
NONCE_BYTES, TAG_BYTES = 12, 16

#: references without a foreign key, remapped on import: (table, column) → referenced table
SOFT_REFERENCES = {("audit_events", "case_id"): "cases", ("audit_events", "actor_id"): "users",
                   ("personal_data_access", "household_id"): "households"}
#: polymorphic references: (table, id column, type column) → {type value → referenced table}
SUBJECT_REFERENCES = {
    ("reminders", "subject_id", "subject"): {"step": "case_steps", "publicity": "case_steps", "case": "cases",
                                             "warning": "warning_tickets"},
    ("supervision_items", "subject_id", "subject"): {"step": "case_steps", "publicity": "case_steps",
                                                     "case": "cases", "warning": "warning_tickets"},
    ("personal_data_access", "subject_id", "subject_type"): {"household": "households", "case": "cases",
                                                             "member": "household_members",
                                                             "notice": "case_notices",
                                                             "material": "case_material_files"},
}
#: audit entity types whose name is not their table's (the rest: the table, or its plural)
ENTITY_TABLES = {"case": "cases", "notice": "case_notices", "user": "users", "org_unit": "org_units",
                 "security_policy": "security_policies", "api_token": "api_tokens", "case_step": "case_steps",
                 "household": "households"}


class TransferError(ValidationError):
    """An archive or a purge refused, with the reasons in Chinese."""


# -- the archive file -------------------------------------------------------------------------------

def passphrase_from_env() -> str:
    value = os.environ.get(PASSPHRASE_ENV, "")
    if len(value) < MIN_PASSPHRASE:
        raise TransferError(f"请在环境变量 {PASSPHRASE_ENV} 中给出归档口令（至少 {MIN_PASSPHRASE} 个字符）；"
                            "口令不经命令行传递。")
    return value


def _key(passphrase: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> bytes:
    return Scrypt(salt=salt, length=16, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def seal(payload: bytes, passphrase: str, tenant_code: str) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(NONCE_BYTES)
    header = {"format": FORMAT, "cipher": "SM4-GCM", "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
              "salt": base64.b64encode(salt).decode(), "nonce": base64.b64encode(nonce).decode(),
              "tenant_code": tenant_code}
    head = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n"
    enc = Cipher(algorithms.SM4(_key(passphrase, salt)), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(head)
    return head + enc.update(payload) + enc.finalize() + enc.tag


def unseal(blob: bytes, passphrase: str) -> tuple[dict, bytes]:
    if not blob.startswith(MAGIC):
        raise TransferError("不是救助平台的县（区）数据归档。")
    end = blob.index(b"\n", len(MAGIC)) + 1
    head, body = blob[:end], blob[end:]
    header = json.loads(head[len(MAGIC):])
    if header.get("format") != FORMAT or header.get("cipher") != "SM4-GCM":
        raise TransferError("归档格式不受支持。")
    key = _key(passphrase, base64.b64decode(header["salt"]), header["n"], header["r"], header["p"])
    dec = Cipher(algorithms.SM4(key), modes.GCM(base64.b64decode(header["nonce"]), body[-TAG_BYTES:])).decryptor()
    dec.authenticate_additional_data(head)
    try:
        payload = dec.update(body[:-TAG_BYTES]) + dec.finalize()
    except InvalidTag:
        raise TransferError("归档无法解密：口令不对，或文件已被改动。") from None
    return header, payload


# -- values to JSON and back, by column type --------------------------------------------------------

def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str, dict, list)) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot archive a value of type {type(value).__name__}")


def _decoder(column):
    t = column.type
    impl = getattr(t, "impl", t)
    if isinstance(t, EncryptedJSON):
        return lambda v: v
    if isinstance(t, EncryptedBytes) or isinstance(impl, LargeBinary):
        return base64.b64decode
    if isinstance(impl, DateTime):
        return dt.datetime.fromisoformat
    if isinstance(impl, Date):
        return dt.date.fromisoformat
    if isinstance(impl, Numeric):
        return Decimal
    if isinstance(t, Enum) and t.enum_class is not None:
        return lambda v: t.enum_class[v]
    return lambda v: v


#: what the database keeps from other rows by triggers — the counters (migration 0051), the pairs of
#: the members' names (0077): never archived — an import rebuilds them as it inserts the rows they
#: come from — but removed with the county
DERIVED = frozenset({"case_counts", "open_step_counts", "member_name_grams"})


def tenant_tables(*, derived: bool = False) -> list[Table]:
    """Every table that holds rows of a county, parents before children (with ``derived``, also the
    counters the database keeps itself)."""
    from jiuzhu.db import Base

    return [t for t in Base.metadata.sorted_tables if "tenant_id" in t.c and t.name != "tenants"
            and (derived or t.name not in DERIVED)]


def _file_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, EncryptedBytes)
            or isinstance(getattr(c.type, "impl", c.type), LargeBinary)]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- export ----------------------------------------------------------------------------------------

@dataclass
class ExportResult:
    path: Path
    manifest: dict
    manifest_sha256: str
    archive_bytes: int


def live_counts(session, tenant_id: int) -> dict[str, int]:
    """Rows per table of the county (in its scope)."""
    return {t.name: session.scalar(select(func.count()).select_from(t).where(t.c.tenant_id == tenant_id))
            for t in tenant_tables()}


def _audit_head(session, tenant_id: int) -> tuple[int, str]:
    from jiuzhu.audit.models import AuditHead

    row = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.tenant_id == tenant_id)).first()
    return (row.seq, row.hash) if row else (0, GENESIS)


def export_tenant(session, tenant, path: Path, passphrase: str, anchor_root: Path | None = None) -> ExportResult:
    """Write the county's archive to ``path`` (never overwriting) and record the export. The chain is
    checked first, against the county's anchors when ``anchor_root`` is given."""
    from jiuzhu.audit.anchors import read_anchors
    from jiuzhu.audit.services import check_chain
    from jiuzhu.instance import identity

    path = Path(path)
    if path.exists():
        raise TransferError(f"{path} 已存在；归档不覆盖已有文件。")
    about = {"id": tenant.id, "code": tenant.code, "name": tenant.name, "plugin_key": tenant.plugin_key,
             "division_code": tenant.division_code, "active": tenant.active,
             "created_at": tenant.created_at.isoformat()}
    tables, files = {}, []
    buffer = io.BytesIO()
    tid = about["id"]
    anchors, bad = read_anchors(anchor_root, tid, about["code"]) if anchor_root is not None else ([], [])
    with use_scope(Scope(tid)):
        report = check_chain(session, tid, anchors=anchors)
        if not report.ok or bad:
            raise TransferError("本县（区）审计链校验未通过，不导出：", *[b.message for b in report.breaks],
                                *[f"锚点文件 {b.path.name}：{b.problem}" for b in bad])
        head_seq, head_hash = _audit_head(session, tid)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for table in tenant_tables():
                order = list(table.primary_key.columns)
                rows = session.execute(select(table).where(table.c.tenant_id == tid).order_by(*order))
                lines, count = [], 0
                blobs = _file_columns(table)
                for row in rows:
                    record = {k: _encode(v) for k, v in row._mapping.items()}
                    for name in blobs:
                        if row._mapping[name] is not None:
                            data = bytes(row._mapping[name])
                            files.append({"table": table.name, "id": row._mapping.get("id"), "column": name,
                                          "bytes": len(data), "sha256": _sha(data)})
                    lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
                    count += 1
                data = ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
                archive.writestr(f"tables/{table.name}.jsonl", data)
                tables[table.name] = {"rows": count, "sha256": _sha(data)}
            ident = identity()
            manifest = {
                "format": FORMAT, "exported_at": dt.datetime.now(dt.UTC).isoformat(),
                "source": {"instance": ident.name, "database": ident.database},
                "tenant": about,
                "tables": tables, "files": files,
                "audit": {"events": report.events, "head_seq": head_seq, "head_hash": head_hash, "verified": True},
                "ids": "remapped on import (fresh ids from the target's sequences)",
            }
            manifest_bytes = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
            archive.writestr("manifest.json", manifest_bytes)
        session.rollback()
    blob = seal(buffer.getvalue(), passphrase, about["code"])
    tmp = path.with_name("." + path.name + ".tmp")
    with open(tmp, "xb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    manifest_sha = _sha(manifest_bytes)
    with use_scope(Scope.platform()):
        platform_log.record(session, "export", about["code"], {
            "manifest_sha256": manifest_sha, "archive_sha256": _sha(blob), "archive_bytes": len(blob),
            "rows": sum(t["rows"] for t in tables.values()), "files": len(files), "audit_head_seq": head_seq,
            "audit_head_hash": head_hash})
        session.commit()
    return ExportResult(path, manifest, manifest_sha, len(blob))


# -- reading an archive ----------------------------------------------------------------------------

@dataclass
class Archive:
    header: dict
    manifest: dict
    manifest_sha256: str
    tables: dict[str, bytes]

    def rows(self, table: str) -> Iterable[dict]:
        for line in self.tables.get(table, b"").decode("utf-8").splitlines():
            if line:
                yield json.loads(line)


def read_archive(path: Path, passphrase: str) -> Archive:
    """Decrypt and check an archive: every table's checksum and count against the manifest."""
    header, payload = unseal(Path(path).read_bytes(), passphrase)
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        manifest_bytes = archive.read("manifest.json")
        manifest = json.loads(manifest_bytes)
        tables = {}
        problems = []
        for name, info in manifest["tables"].items():
            data = archive.read(f"tables/{name}.jsonl")
            if _sha(data) != info["sha256"]:
                problems.append(f"表 {name} 的校验和与清单不符")
            if data.count(b"\n") != info["rows"]:
                problems.append(f"表 {name} 的行数与清单不符")
            tables[name] = data
    if manifest.get("format") != FORMAT or header.get("tenant_code") != manifest["tenant"]["code"]:
        problems.append("归档头与清单不一致")
    if problems:
        raise TransferError("归档未通过校验：", *problems)
    return Archive(header, manifest, _sha(manifest_bytes), tables)


# -- import ----------------------------------------------------------------------------------------

@dataclass
class ImportResult:
    tenant_id: int
    code: str
    rows: int
    events: int
    anchor: Path | None


def _statement_triggered(session) -> set[str]:
    """The tables with statement-level triggers of ours (the counters, the benefit registry, the names'
    pairs)."""
    return set(session.scalars(text("SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger "
                                    "WHERE NOT tgisinternal AND tgtype & 1 = 0")))


def _insert_in_batches(session, table: Table, rows: list[dict], *, per_statement: bool, size: int = 500) -> None:
    """``rows`` in batches of ``size``. A list of parameters (``executemany``) is one statement per row
    on the server: for a table with statement triggers (``per_statement``) those ran once a row — with
    plans PL/pgSQL kept from when the tables were small, so that the import grew with the square of
    the county (8,000 cases: 454 s). There each batch is one multi-row INSERT (SQLAlchemy's
    "insertmanyvalues", asked for by ``RETURNING``), and the triggers run once a batch; elsewhere
    ``executemany`` stays, several times faster for plain rows."""
    key = list(table.primary_key.columns)[:1]
    for start in range(0, len(rows), size):
        if per_statement:
            session.execute(insert(table).returning(*key), rows[start:start + size]).all()
        else:
            session.execute(insert(table), rows[start:start + size])


def _allocate(session, table: Table, n: int) -> list[int]:
    if n == 0:
        return []
    return list(session.scalars(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                                {"t": table.name, "n": n}))


def _entity_table(entity_type: str, known: set[str]) -> str | None:
    for name in (ENTITY_TABLES.get(entity_type), entity_type, entity_type + "s"):
        if name in known:
            return name
    return None


def _check_source_chain(events: list[dict], audit: dict) -> None:
    """The archived chain as the source left it: seq 1…n without gaps, each event linked to the one
    before, ending at the head the manifest names. (Its keyed hashes need the source's audit key,
    which the target does not hold; the export checked them, and the archive is authenticated.)"""
    prev = GENESIS
    for n, event in enumerate(events, start=1):
        if event["seq"] != n or event["prev_hash"] != prev:
            raise TransferError(f"归档中的审计链在第 {n} 条断开，未导入。")
        prev = event["hash"]
    if (len(events), prev) != (audit["head_seq"], audit["head_hash"]):
        raise TransferError("归档中的审计链与清单记录的链头不符，未导入。")


def import_tenant(session, path: Path, passphrase: str, anchor_root: Path | None = None) -> ImportResult:
    """Restore an archive into this instance as a new county (one transaction)."""
    from jiuzhu.audit.models import AuditEvent, AuditHead
    from jiuzhu.auth.lookup import login_directory
    from jiuzhu.tenancy.models import Tenant

    if session.get_bind().dialect.name != "postgresql":
        raise TransferError("导入只在 PostgreSQL 上进行。")
    archive = read_archive(path, passphrase)
    manifest = archive.manifest
    source = manifest["tenant"]
    tables = tenant_tables()
    known = {t.name for t in tables}
    missing = set(manifest["tables"]) - known
    if missing:
        raise TransferError("归档含本实例没有的表（版本不同？）：" + "、".join(sorted(missing)))
    problems = []
    with use_scope(Scope.platform()):
        if session.scalar(select(func.count()).select_from(Tenant).where(Tenant.code == source["code"])):
            problems.append(f"县（区）代码“{source['code']}”在本实例已被使用。")
        for row in archive.rows("users"):
            if login_directory(session, row["username"]) is not None:
                problems.append(f"登录名“{row['username']}”在本实例已被使用。")
    if problems:
        session.rollback()
        raise TransferError("未导入：", *problems)

    with use_scope(Scope.platform()):
        tenant = Tenant(code=source["code"], name=source["name"], plugin_key=source["plugin_key"],
                        division_code=source["division_code"], active=source["active"],
                        created_at=dt.datetime.fromisoformat(source["created_at"]))
        session.add(tenant)
        session.flush()
        tid = tenant.id

    blind = {}
    for cls, attribute, index_attribute, kind in BLIND_INDEXES:
        blind.setdefault(cls.__table__.name, []).append((attribute, index_attribute, kind))
    maps: dict[str, dict[int, int]] = {}
    rows_total = 0
    events = 0
    with use_scope(Scope(tid)):
        _sync_rls(session)  # the county's own scope for the database too: the inserts are plain statements
        triggered = _statement_triggered(session)
        # every new id first, so that references in any direction (a parent unit, a reviewed case) resolve
        loaded: dict[str, list[dict]] = {}
        for table in tables:
            if table.name in ("audit_heads",):
                continue
            rows = list(archive.rows(table.name))
            loaded[table.name] = rows
            if "id" in table.c and rows:
                new_ids = _allocate(session, table, len(rows))
                maps[table.name] = {row["id"]: new for row, new in zip(rows, new_ids, strict=True)}

        def follow(target: str, old, strict: bool = True):
            if old is None:
                return None
            if target == "tenants":
                return tid
            try:
                return maps[target][int(old)]
            except KeyError:
                if not strict:  # a reference without a foreign key to a row gone before the export
                    return None
                raise TransferError(f"归档中的引用 {target}#{old} 没有对应的行") from None

        for table in tables:
            if table.name not in loaded or table.name == AuditEvent.__tablename__:
                continue
            decoders = {c.name: _decoder(c) for c in table.columns}
            references = {c.name: (next(iter(c.foreign_keys)).column.table.name, True)
                          for c in table.columns if c.foreign_keys}
            for (tname, column), target in SOFT_REFERENCES.items():
                if tname == table.name:
                    references[column] = (target, False)
            subjects = [(idc, typec, targets) for (tname, idc, typec), targets in SUBJECT_REFERENCES.items()
                        if tname == table.name]
            out = []
            for row in loaded[table.name]:
                new = {}
                for name, value in row.items():
                    if name == "tenant_id":  # every county table's, whether or not a key names tenants
                        new[name] = tid
                    elif name == "id" and table.name in maps:
                        new[name] = maps[table.name][value]
                    elif name in references:
                        new[name] = follow(references[name][0], value, references[name][1])
                    else:
                        new[name] = None if value is None else decoders[name](value)
                for idc, typec, targets in subjects:
                    target = targets.get(str(row[typec]))
                    if target and row[idc] is not None:
                        new[idc] = follow(target, row[idc], False)
                for attribute, index_attribute, kind in blind.get(table.name, ()):
                    value = new.get(attribute)
                    new[index_attribute] = None if value is None else blindindex.compute(
                        keyring().blind_index, kind, value)
                out.append(new)
            _insert_in_batches(session, table, out, per_statement=table.name in triggered)
            rows_total += len(out)

        # the audit chain: same events, ids remapped, hashes recomputed under this instance's key
        source_events = sorted(loaded.get("audit_events", []), key=lambda r: r["seq"])
        _check_source_chain(source_events, manifest["audit"])
        key_id, key = keyring().audit.active()
        decoders = {c.name: _decoder(c) for c in AuditEvent.__table__.columns}
        prev, seq = GENESIS, 0
        out = []
        for row in source_events:
            new = {name: None if value is None else decoders[name](value) for name, value in row.items()}
            new["id"] = maps["audit_events"][row["id"]]
            new["tenant_id"] = tid
            new["case_id"] = follow("cases", row["case_id"], False)
            new["actor_id"] = maps.get("users", {}).get(row["actor_id"], row["actor_id"]) \
                if row["actor_id"] is not None else None
            target = _entity_table(row["entity_type"], known)
            if target and target in maps and "," not in row["entity_id"] and row["entity_id"].isdigit():
                new["entity_id"] = str(maps[target].get(int(row["entity_id"]), row["entity_id"]))
            seq += 1
            new["seq"], new["prev_hash"], new["key_id"] = seq, prev, key_id
            new["hash"] = prev = event_hash(new, prev, key)
            out.append(new)
        _insert_in_batches(session, AuditEvent.__table__, out, per_statement=AuditEvent.__tablename__ in triggered)
        events = len(out)
        rows_total += events
        session.execute(insert(AuditHead.__table__), {"tenant_id": tid, "seq": seq, "hash": prev})
        rows_total += 1  # the head: the archive's rows, one for one
        audit = manifest["audit"]
        append(session, tid, [Entry("tenant", str(tid), "import", after={
            "source_instance": manifest["source"]["instance"], "source_database": manifest["source"]["database"],
            "source_tenant_id": source["id"], "source_head_seq": audit["head_seq"],
            "source_head_hash": audit["head_hash"], "manifest_sha256": archive.manifest_sha256,
            "ids": "remapped"})])
        head_seq, head_hash = _audit_head(session, tid)
    with use_scope(Scope.platform()):
        _sync_rls(session)
        platform_log.record(session, "import", source["code"], {
            "manifest_sha256": archive.manifest_sha256, "tenant_id": tid, "rows": rows_total,
            "source_instance": manifest["source"]["instance"], "audit_head_seq": head_seq})
    session.commit()
    anchor = None
    if anchor_root is not None:
        from jiuzhu.audit.anchors import write_anchor

        anchor = write_anchor(anchor_root, tid, source["code"], head_seq, head_hash)
    return ImportResult(tid, source["code"], rows_total, events, anchor)


# -- purge -----------------------------------------------------------------------------------------

@dataclass
class PurgeResult:
    code: str
    rows: dict[str, int]
    anchors_moved_to: Path | None


def check_export(session, tenant, archive: Archive) -> list[str]:
    """Why ``archive`` is not a verified export of the county's current data ([] when it is)."""
    problems = []
    manifest = archive.manifest
    if manifest["tenant"]["code"] != tenant.code or manifest["tenant"]["id"] != tenant.id:
        problems.append("归档属于另一个县（区）。")
    with use_scope(Scope.platform()):
        recorded = {e.detail.get("manifest_sha256") for e in platform_log.exports_of(session, tenant.code)}
    if archive.manifest_sha256 not in recorded:
        problems.append("平台记录中没有这份归档的导出（清单校验和不符）。")
    with use_scope(Scope(tenant.id)):
        counts = live_counts(session, tenant.id)
        head = _audit_head(session, tenant.id)
    for name, n in counts.items():
        archived = manifest["tables"].get(name, {}).get("rows", 0)
        if archived != n:
            problems.append(f"表 {name}：库中 {n} 行，归档 {archived} 行（导出之后又有改动，请重新导出）。")
    if head != (manifest["audit"]["head_seq"], manifest["audit"]["head_hash"]):
        problems.append("审计链头与归档不符（导出之后又有记录，请重新导出）。")
    session.rollback()
    return problems


def purge_tenant(session, tenant, *, archive: Archive | None, force: bool,
                 anchor_root: Path | None = None) -> PurgeResult:
    """Delete every row of the county, in one transaction as the database owner."""
    from jiuzhu.tenancy.rls import rls_key, signed_setting

    if archive is None and not force:
        raise TransferError("未清除：须给出本县（区）经核验的导出归档（--archive），或明确使用 --force。")
    verified_by = None
    if archive is not None:
        problems = check_export(session, tenant, archive)
        if problems:
            raise TransferError("未清除：", *problems)
        verified_by = archive.manifest_sha256
    code, tid = tenant.code, tenant.id
    session.rollback()
    url = current_app.config.get("JIUZHU_DATABASE_ADMIN_URL") or current_app.config["SQLALCHEMY_DATABASE_URI"]
    engine = create_engine(url)
    key = rls_key(current_app.config["SECRET_KEY"])
    deleted: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            if conn.dialect.name != "postgresql":
                raise TransferError("清除只在 PostgreSQL 上进行。")
            conn.execute(text("SELECT set_config('app.tenant_id', :s, true)"), {"s": signed_setting(key, tid)})
            tables = list(reversed(tenant_tables(derived=True)))
            # statistics as the tables are now: each row deleted looks up the rows that point at it, by
            # plans made from them — with a county the statistics have not seen yet (one imported an hour
            # ago), PostgreSQL read all of the county's rows of a table for each row (8,000 cases: 21 s;
            # 2.4 s with them). A sample of each table, in this transaction, blocking no reader or writer.
            conn.execute(text("ANALYZE " + ", ".join(t.name for t in tables)))
            # the append-only audit trail lets this county's events go, in this transaction, as the owner
            # (migration 0079) — no lock on the table that every other county's writes would wait for
            conn.execute(text("SELECT set_config('jiuzhu.purge_tenant', :t, true)"), {"t": str(tid)})
            for table in tables:
                deleted[table.name] = conn.execute(table.delete().where(table.c.tenant_id == tid)).rowcount
            conn.execute(text("SELECT set_config('app.tenant_id', :s, true)"),
                         {"s": signed_setting(key, None, platform=True)})
            conn.execute(text("DELETE FROM tenants WHERE id = :t"), {"t": tid})
            platform_log.record(conn, "purge", code, {
                "tenant_id": tid, "rows": sum(deleted.values()), "forced": archive is None,
                "manifest_sha256": verified_by})
    finally:
        engine.dispose()
    moved = None
    if anchor_root is not None and (anchor_root / code).is_dir():
        moved = anchor_root / f"{code}.purged-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
        os.replace(anchor_root / code, moved)
    return PurgeResult(code, deleted, moved)


__all__ = ["Archive", "ExportResult", "ImportResult", "PurgeResult", "TransferError", "check_export",
           "export_tenant", "import_tenant", "live_counts", "passphrase_from_env", "purge_tenant", "read_archive",
           "tenant_tables"]
