"""Anchors: each county's chain head, exported outside the database in a signed file.

The keyed chain stops whoever owns the database but not the audit key. An anchor stops them too:
once a head (seq, hash) is written where the database owner cannot write — another machine's
mount, write-once storage, a printout — any later rewrite of events up to that seq, deleting the
last events and moving the head back, or emptying the tables shows up as a disagreement with it.

``JIUZHU_AUDIT_ANCHOR_DIR/<instance>/<county code>/<UTC time>-<seq>.json``, one file per anchoring,
written once (temporary file, then rename) and never changed::

    {"format": "jiuzhu-audit-anchor/1", "instance": "…", "database": "…", "tenant_id": 3,
     "tenant_code": "shexian", "seq": 1234, "hash": "…", "anchored_at": "2026-…Z",
     "key_id": "a1", "mac": "<HMAC-SM3 of the canonical JSON of the other fields>"}

The MAC (under the audit key) makes a forged or edited anchor file detectable by whoever holds the
key; the directory's own protection is what keeps the database owner from deleting files. The
daily ``rq cron`` job and ``flask --app wsgi audit anchor`` anchor every active county, but only
after checking the events since the county's last anchor: a chain found broken is not anchored
(and the check reports it), so an anchor never blesses a forgery.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select

from jiuzhu.audit.canonical import canonical
from jiuzhu.crypto.cipher import hmac_sm3, same
from jiuzhu.crypto.keys import UnknownKeyError
from jiuzhu.crypto.types import keyring
from jiuzhu.instance import identity, instance_job, job_app

log = logging.getLogger(__name__)

FORMAT = "jiuzhu-audit-anchor/1"


@dataclass(frozen=True)
class Anchor:
    """A head the county's chain had when it was anchored."""

    tenant_id: int
    tenant_code: str
    seq: int
    hash: str
    anchored_at: str
    path: Path

    @property
    def when(self) -> str:
        """The anchoring time in China time, for messages."""
        at = dt.datetime.fromisoformat(self.anchored_at.replace("Z", "+00:00"))
        return at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class BadAnchor:
    """An anchor file that cannot be trusted: unreadable, of another county, or not signed by us."""

    path: Path
    problem: str


def anchor_root(app: Flask | None = None) -> Path | None:
    """This instance's anchor directory, or None when JIUZHU_AUDIT_ANCHOR_DIR is not set."""
    app = app or current_app._get_current_object()
    base = app.config.get("JIUZHU_AUDIT_ANCHOR_DIR")
    return Path(base) / identity(app).name if base else None


def tenant_dir(root: Path, tenant_code: str) -> Path:
    return root / tenant_code


def _mac(document: dict, key_id: str) -> str:
    body = {k: v for k, v in document.items() if k != "mac"}
    return hmac_sm3(keyring().audit.get(key_id), canonical(body).encode("utf-8"))


def write_anchor(root: Path, tenant_id: int, tenant_code: str, seq: int, head_hash: str,
                 now: dt.datetime | None = None) -> Path:
    """Write one signed anchor file; never overwrites one."""
    now = now or dt.datetime.now(dt.UTC)
    ident = identity()
    key_id, _ = keyring().audit.active()
    document = {"format": FORMAT, "instance": ident.name, "database": ident.database, "tenant_id": tenant_id,
                "tenant_code": tenant_code, "seq": seq, "hash": head_hash,
                "anchored_at": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "key_id": key_id}
    document["mac"] = _mac(document, key_id)
    folder = tenant_dir(root, tenant_code)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}-{seq}.json"
    tmp = path.with_name("." + path.name + ".tmp")
    with open(tmp, "x", encoding="utf-8") as f:
        json.dump(document, f, ensure_ascii=False, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    if path.exists():
        tmp.unlink()
        raise FileExistsError(f"{path} exists")
    os.replace(tmp, path)
    return path


def read_anchors(root: Path, tenant_id: int, tenant_code: str) -> tuple[list[Anchor], list[BadAnchor]]:
    """The county's anchors (oldest first) whose signature holds, and the files that do not."""
    folder = tenant_dir(root, tenant_code)
    if not folder.is_dir():
        return [], []
    ident = identity()
    good: list[Anchor] = []
    bad: list[BadAnchor] = []
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            key_id = doc["key_id"]
            if doc.get("format") != FORMAT:
                raise ValueError("unknown format")
            expected = _mac(doc, key_id)
        except UnknownKeyError:
            bad.append(BadAnchor(path, "以未配置的审计密钥签名"))
            continue
        except (OSError, ValueError, KeyError, TypeError):
            bad.append(BadAnchor(path, "无法读取（格式不符）"))
            continue
        if not isinstance(doc.get("mac"), str) or not same(doc["mac"], expected):
            bad.append(BadAnchor(path, "签名无效（文件被改动或伪造）"))
            continue
        if doc.get("tenant_id") != tenant_id or doc.get("database") != ident.database:
            bad.append(BadAnchor(path, "属于另一个县（区）或另一个数据库"))
            continue
        good.append(Anchor(tenant_id, tenant_code, int(doc["seq"]), str(doc["hash"]), str(doc["anchored_at"]),
                           path))
    good.sort(key=lambda a: (a.anchored_at, a.seq))
    return good, bad


@dataclass(frozen=True)
class AnchorResult:
    tenant_code: str
    tenant_name: str
    #: the anchor written, or None when the chain was found broken (or nothing was configured)
    path: Path | None
    seq: int
    #: why nothing was written, in Chinese
    refused: list[str]


def anchor_tenant(session, root: Path, tenant_id: int, code: str, name: str) -> AnchorResult:
    """Check the county's events since its last anchor, then anchor its head."""
    from jiuzhu.audit.models import AuditHead
    from jiuzhu.audit.services import check_chain
    from jiuzhu.tenancy.context import Scope, use_scope

    anchors, bad = read_anchors(root, tenant_id, code)
    with use_scope(Scope(tenant_id)):
        since = max(anchors, key=lambda a: a.seq) if anchors else None
        try:
            report = check_chain(session, tenant_id, anchors=anchors, since=since)
            head = session.execute(select(AuditHead.seq, AuditHead.hash)
                                   .where(AuditHead.tenant_id == tenant_id)).first()
        finally:
            session.rollback()
    problems = [b.message for b in report.breaks] + [f"锚点文件 {b.path.name}：{b.problem}" for b in bad]
    if problems:
        log.error("audit chain of tenant %s not anchored: %d problems", code, len(problems))
        return AnchorResult(code, name, None, report.last_seq, problems)
    seq, head_hash = (head.seq, head.hash) if head is not None else (0, "0" * 64)
    path = write_anchor(root, tenant_id, code, seq, head_hash)
    return AnchorResult(code, name, path, seq, [])


def anchor_all(app: Flask | None = None, tenant_codes: list[str] | None = None) -> list[AnchorResult]:
    """Anchor every active county (or the ones named)."""
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.models import Tenant

    app = app or current_app._get_current_object()
    root = anchor_root(app)
    if root is None:
        raise RuntimeError("JIUZHU_AUDIT_ANCHOR_DIR is not set")
    with use_scope(Scope.platform()):
        query = select(Tenant.id, Tenant.code, Tenant.name).order_by(Tenant.code)
        query = query.where(Tenant.code.in_(tenant_codes)) if tenant_codes else query.where(Tenant.active.is_(True))
        tenants = db.session.execute(query).all()
        db.session.rollback()
    return [anchor_tenant(db.session, root, t.id, t.code, t.name) for t in tenants]


@instance_job
def anchor_audit_heads() -> dict:
    """The daily ``rq cron`` job: anchor every active county's chain head."""
    from jiuzhu.extensions import db

    app = job_app()
    with app.app_context():
        if anchor_root(app) is None:
            log.warning("JIUZHU_AUDIT_ANCHOR_DIR is not set: audit chain heads are not anchored")
            return {"skipped": "JIUZHU_AUDIT_ANCHOR_DIR not set"}
        try:
            results = anchor_all(app)
        finally:
            db.session.remove()
    return {"anchored": {r.tenant_code: r.seq for r in results if r.path is not None},
            "refused": sorted(r.tenant_code for r in results if r.path is None)}


__all__ = ["Anchor", "AnchorResult", "BadAnchor", "FORMAT", "anchor_all", "anchor_audit_heads", "anchor_root",
           "anchor_tenant", "read_anchors", "write_anchor"]
