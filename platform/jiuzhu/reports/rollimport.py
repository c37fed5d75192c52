"""Importing a county's existing beneficiary roll (在保对象花名册) from Excel, as an RQ job.

The whole file is checked first, row by row; one bad row rejects the file and nothing is written,
with a message per row. A good file is written in one transaction: a household and an approved case
per row. Progress is written on a separate connection so the screen can show it while the import's
own transaction is still open.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, select, text, update
from sqlalchemy.orm import Mapped, mapped_column

from jiuzhu.cases.categories import CATEGORY_LABELS, CaseStatus, Category, Channel
from jiuzhu.cases.households import Household, Member, Relation
from jiuzhu.cases.idcard import InvalidIdNumber, parse_id_number
from jiuzhu.cases.models import Case
from jiuzhu.cases.services import numbers_registered
from jiuzhu.crypto.types import EncryptedBytes
from jiuzhu.db import Base, utcnow
from jiuzhu.instance import instance_job, job_app
from jiuzhu.tenancy.mixins import TenantScoped
from jiuzhu.tenancy.models import OrgLevel, OrgUnit

HEADERS = {
    "township": ("乡镇（街道）", "乡镇", "township"),
    "village": ("村（社区）", "村", "village"),
    "name": ("户主姓名", "姓名", "name"),
    "id_number": ("户主身份证号码", "身份证号码", "id_number"),
    "category": ("类别", "救助类别", "category"),
    "covered": ("保障人数", "covered"),
    "amount": ("月保障金额", "月保障金额（元）", "monthly_amount"),
    "start": ("起始年月", "start_month"),
    "address": ("地址", "address"),
}
REQUIRED = ("township", "name", "id_number", "category", "covered", "amount", "start")
BY_LABEL = {label: c for c, label in CATEGORY_LABELS.items()} | {c.value: c for c in Category}
PROGRESS_EVERY = 50


class ImportStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    rejected = "rejected"
    done = "done"
    failed = "failed"

    @property
    def label(self) -> str:
        return {"queued": "排队中", "running": "导入中", "rejected": "已拒绝（未写入任何数据）", "done": "已完成",
                "failed": "出错（未写入任何数据）"}[self.value]


class RollImport(TenantScoped, Base):
    """One uploaded roll and what became of it."""

    __tablename__ = "roll_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: the file itself (rolls are small: thousands of rows)
    content: Mapped[bytes] = mapped_column(EncryptedBytes("roll_imports.content"))
    status: Mapped[ImportStatus] = mapped_column(Enum(ImportStatus, native_enum=False, length=16),
                                                 default=ImportStatus.queued)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_cases: Mapped[int] = mapped_column(Integer, default=0)
    #: per rejected row: {"line": n, "messages": [...]}; or one {"line": null} for a file-level problem
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]

    @property
    def percent(self) -> int:
        if self.status in (ImportStatus.done, ImportStatus.rejected, ImportStatus.failed):
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


@dataclass
class RollRow:
    line: int
    township: OrgUnit
    village: OrgUnit | None
    name: str
    id_number: str
    birth: dt.date
    sex: str
    category: Category
    covered: int
    amount: Decimal
    start: dt.date
    address: str


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, dt.datetime | dt.date):
        return v.strftime("%Y-%m")
    return str(v).strip()


#: a roll has at most this many rows (a county's whole roll fits many times over)
MAX_ROWS = 50_000
#: an .xlsx is a zip: what it may inflate to, in all and per part (a "zip bomb" inflates hundreds of times)
MAX_INFLATED_BYTES = 100 * 1024 * 1024
MAX_RATIO = 100


def _check_archive(content: bytes) -> None:
    """Refuse, before parsing, a file that is not a zip or would inflate beyond the limits."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ValueError("无法读取 Excel 文件，请上传有效的 .xlsx 文件。") from None
    total = sum(p.file_size for p in parts)
    if total > MAX_INFLATED_BYTES or any(p.compress_size and p.file_size / p.compress_size > MAX_RATIO
                                         and p.file_size > 1024 * 1024 for p in parts):
        raise ValueError(f"文件解压后过大（超过 {MAX_INFLATED_BYTES // 1024 // 1024} MB 或压缩比异常），"
                         f"不是正常的花名册，未导入。请拆分后上传（每个文件不超过 {MAX_ROWS} 行）。")


def read_table(content: bytes) -> list[list[str]]:
    """The first sheet's non-empty rows, read as a stream; at most :data:`MAX_ROWS` plus the header."""
    from openpyxl import load_workbook

    _check_archive(content)
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise ValueError("无法读取 Excel 文件，请上传有效的 .xlsx 文件。") from None
    rows: list[list[str]] = []
    try:
        for row in wb.worksheets[0].iter_rows(values_only=True):
            cells = [_cell(c) for c in row[:40]]
            if any(cells):
                rows.append(cells)
                if len(rows) > MAX_ROWS + 1:
                    raise ValueError(f"文件超过 {MAX_ROWS} 行，未导入。请拆分后分批上传。")
    finally:
        wb.close()
    return rows


def check_rows(session, table: list[list[str]], today: dt.date, progress=None) -> tuple[list[RollRow], list[dict]]:
    """Every row checked; (good rows, errors). Nothing is written."""
    if not table:
        return [], [{"line": None, "messages": ["文件为空。"]}]
    header = table[0]
    index = {key: header.index(name) for key, names in HEADERS.items() for name in names if name in header}
    missing = [HEADERS[k][0] for k in REQUIRED if k not in index]
    if missing:
        return [], [{"line": 1, "messages": [f"表头缺少：{'、'.join(missing)}。"]}]
    towns = {u.name: u for u in session.scalars(select(OrgUnit).where(OrgUnit.level == OrgLevel.township))}
    villages = {(u.parent_id, u.name): u for u in session.scalars(select(OrgUnit).where(OrgUnit.level == OrgLevel.village))}
    numbers = [r[index["id_number"]].upper() for r in table[1:] if len(r) > index["id_number"]]
    known = set(numbers_registered(session, numbers)) if numbers else set()
    good, errors, seen = [], [], {}
    for n, raw in enumerate(table[1:], start=2):
        row = {k: (raw[i] if i < len(raw) else "") for k, i in index.items()}
        problems = []
        town = towns.get(row["township"])
        if town is None:
            problems.append(f"乡镇（街道）“{row['township']}”不在本县的组织机构中。")
        village = None
        if row.get("village"):
            village = villages.get((town.id if town else None, row["village"]))
            if village is None and town is not None:
                problems.append(f"村（社区）“{row['village']}”不属于“{town.name}”。")
        if not row["name"]:
            problems.append("户主姓名为空。")
        info = None
        try:
            info = parse_id_number(row["id_number"], today)
        except InvalidIdNumber as exc:
            problems.append(str(exc))
        if info is not None:
            if info.number in seen:
                problems.append(f"身份证号码与第 {seen[info.number]} 行重复。")
            elif info.number in known:
                problems.append("身份证号码已登记在本县的家庭中（一户一档）。")
            seen.setdefault(info.number, n)
        category = BY_LABEL.get(row["category"])
        if category is None:
            problems.append(f"类别“{row['category']}”无效。")
        try:
            covered = int(row["covered"])
            if covered < 1:
                raise ValueError
        except ValueError:
            problems.append(f"保障人数“{row['covered']}”应为正整数。")
            covered = 0
        try:
            amount = Decimal(row["amount"]).quantize(Decimal("0.01"))
            if amount <= 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            problems.append(f"月保障金额“{row['amount']}”应为大于 0 的数字。")
            amount = Decimal(0)
        try:
            start = dt.datetime.strptime(row["start"][:7], "%Y-%m").date()
        except ValueError:
            problems.append(f"起始年月“{row['start']}”格式应为 YYYY-MM。")
            start = None
        if problems:
            errors.append({"line": n, "messages": problems})
        else:
            good.append(RollRow(n, town, village, row["name"], info.number, info.birth_date, info.sex, category,
                                covered, amount, start, row.get("address", "")))
        if progress and n % PROGRESS_EVERY == 0:
            progress(n - 1)
    return good, errors


def write_rows(session, rows: list[RollRow], plugin_key: str, progress=None) -> int:
    for i, r in enumerate(rows, start=1):
        household = Household(township_id=r.township.id, village_id=r.village.id if r.village else None,
                              address=r.address, tags=[])
        household.members.append(Member(name=r.name, id_number=r.id_number, birth_date=r.birth, sex=r.sex,
                                        relation=Relation.head, coresident=True))
        session.add(household)
        session.flush()
        session.add(Case(township_id=household.township_id, village_id=household.village_id,
                         household_id=household.id, channel=Channel.window, categories=[r.category.value],
                         status=CaseStatus.approved, plugin_key=plugin_key, applied_on=r.start, accepted_on=r.start,
                         decided_on=r.start, monthly_amount=r.amount, benefit_start=r.start, covered_count=r.covered,
                         decision_reason="存量在保对象导入", round=1, paused_workdays=0))
        if progress and i % PROGRESS_EVERY == 0:
            progress(i)
    session.flush()
    return len(rows)


def _progress_writer(session, import_id: int, tenant_id: int, base: int, total: int):
    """Progress on its own connection, committed at once, visible while the import runs."""
    from jiuzhu.tenancy.context import Scope
    from jiuzhu.tenancy.scoping import tenant_setting

    engine = session.get_bind()

    def report(done: int) -> None:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                             {"t": tenant_setting(Scope(tenant_id))})
            conn.execute(update(RollImport.__table__).where(RollImport.__table__.c.id == import_id)
                         .values(processed_rows=min(total, base + done)))
    return report


def run_import(session, import_id: int, today: dt.date, plugin_key: str) -> RollImport:
    """Check and import the roll; whatever happens, it ends done, rejected or failed — never left
    "running" (a failure writes nothing and says so)."""
    try:
        return _run_import(session, import_id, today, plugin_key)
    except Exception as exc:  # noqa: BLE001 — MemoryError, a database error …: the import must end
        import logging

        logging.getLogger(__name__).error("roll import %s failed: %s", import_id, exc.__class__.__name__)
        session.rollback()
        imp = session.get(RollImport, import_id)
        imp.status, imp.finished_at = ImportStatus.failed, utcnow()
        imp.errors = [{"line": None, "messages": ["导入过程中出错，未写入任何数据。请检查文件后重新上传，或联系管理员。"]}]
        session.commit()
        return imp


def _run_import(session, import_id: int, today: dt.date, plugin_key: str) -> RollImport:
    imp = session.get(RollImport, import_id)
    tenant_id = imp.tenant_id
    try:
        table = read_table(imp.content)
    except ValueError as exc:
        imp.status, imp.errors, imp.finished_at = ImportStatus.rejected, [{"line": None, "messages": [str(exc)]}], utcnow()
        session.commit()
        return imp
    rows = len(table) - 1 if table else 0
    imp.status, imp.total_rows, imp.processed_rows = ImportStatus.running, 2 * max(rows, 0), 0
    session.commit()
    good, errors = check_rows(session, table, today, _progress_writer(session, import_id, tenant_id, 0, 2 * rows))
    if errors:
        imp = session.get(RollImport, import_id)
        imp.status, imp.errors, imp.finished_at = ImportStatus.rejected, errors, utcnow()
        session.commit()
        return imp
    try:
        created = write_rows(session, good, plugin_key, _progress_writer(session, import_id, tenant_id, rows, 2 * rows))
        imp = session.get(RollImport, import_id)
        imp.status, imp.created_cases, imp.processed_rows, imp.finished_at = ImportStatus.done, created, 2 * rows, utcnow()
        session.commit()
    except Exception:
        session.rollback()
        raise
    return imp


@instance_job
def run_import_job(import_id: int, tenant_id: int) -> str:
    """The RQ job: ids in, the import's final status out."""
    from jiuzhu.clock import china_today
    from jiuzhu.extensions import db
    from jiuzhu.ops.metrics import metrics, timed
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.models import Tenant

    app = job_app()
    with app.app_context(), use_scope(Scope(tenant_id)), timed(metrics().import_seconds) as labels:
        labels["status"] = "error"
        try:
            tenant = db.session.get(Tenant, tenant_id)
            labels["status"] = run_import(db.session, import_id, china_today(), tenant.plugin_key).status.value
            return labels["status"]
        finally:
            db.session.remove()
