"""The monthly payment file the county sends to the financial institution it entrusts (当涂: “救助资金由
县民政局委托金融机构…发放”; 县级…资金发放).

One file per month: a CSV (UTF-8 with a byte-order mark, so Excel opens it in Chinese), one row per
household owed that month, in this column order (``COLUMNS``):

====  ==================  ==========================================================
 #     column              content
====  ==================  ==========================================================
 1     序号                1, 2, 3 … in the order of township, village, case
 2     乡镇（街道）        the township (or park) that confirmed the case
 3     村（社区）          the household's village or community ("" if none)
 4     户主姓名            the head of household, in full
 5     身份证号码          the head's ID number, in full (18 characters)
 6     救助类别            最低生活保障 / 特困人员救助供养 …
 7     发放月份            YYYY-MM
 8     发放金额（元）      the month's amount, two decimals
 9     案件编号            the platform's case number (to reconcile the bank's return)
====  ==================  ==========================================================

ID numbers appear in full only here, in an explicit action of the county's payment staff: each export
is written to the audit chain and to the personal-data access log (导出名单) with the month, the
number of households and the total. Townships and villages cannot make it (权钱分离); the rows are
the current county's only (the tenant scope), never another county's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from jiuzhu.audit import record
from jiuzhu.auth.models import User
from jiuzhu.cases.categories import CATEGORY_LABELS, CaseStatus
from jiuzhu.cases.households import Household
from jiuzhu.cases.models import Case
from jiuzhu.errors import PermissionDenied, ValidationError
from jiuzhu.payments.models import BenefitSchedule
from jiuzhu.payments.services import BENEFIT_PAYERS, month_of

COLUMNS = ("序号", "乡镇（街道）", "村（社区）", "户主姓名", "身份证号码", "救助类别", "发放月份", "发放金额（元）", "案件编号")


@dataclass(frozen=True)
class BankFile:
    filename: str
    content: bytes
    rows: int
    total: Decimal


def parse_month(raw: str | None) -> dt.date:
    try:
        return dt.datetime.strptime((raw or "").strip(), "%Y-%m").date()
    except ValueError:
        raise ValidationError(field_errors={"month": ["请选择发放月份（格式如 2026-11）。"]}) from None


def bank_file(session, user: User, month: dt.date, *, on: dt.date, county_code: str) -> BankFile:
    """The month's file for the bank, recorded as an export of personal data (full ID numbers)."""
    from jiuzhu.privacy.models import AccessKind
    from jiuzhu.privacy.services import record_access
    from jiuzhu.tenancy.models import OrgUnit

    if user.role not in BENEFIT_PAYERS:
        raise PermissionDenied("保障金发放文件由县级民政部门制作（权钱分离），乡镇（街道）和村（社区）不能导出。")
    month = month_of(month)
    if month > month_of(on):
        raise ValidationError(field_errors={"month": [f"不能提前制作{month:%Y年%m月}的发放文件。"]})
    schedules = session.scalars(
        select(BenefitSchedule).join(Case, Case.id == BenefitSchedule.case_id)
        .where(BenefitSchedule.start_month <= month,
               or_(BenefitSchedule.end_month >= month,
                   (BenefitSchedule.end_month.is_(None)) & (Case.status == CaseStatus.approved)))
        .options(selectinload(BenefitSchedule.payments),
                 selectinload(BenefitSchedule.case).selectinload(Case.household).selectinload(Household.members))
        .order_by(Case.township_id, Case.village_id, Case.id)).all()
    if not schedules:
        raise ValidationError(field_errors={"month": [f"{month:%Y年%m月}没有应发放的保障金。"]})
    names = dict(session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    total = Decimal("0")
    for i, s in enumerate(schedules, start=1):
        paid = next((p for p in s.payments if p.month == month), None)
        amount = paid.amount if paid else s.monthly_amount
        total += amount
        head = s.case.household.head if s.case.household is not None else None
        writer.writerow([i, names.get(s.case.township_id, ""), names.get(s.case.village_id, ""),
                         head.name if head else "", head.id_number if head else "",
                         CATEGORY_LABELS.get(s.category, s.category), f"{month:%Y-%m}", f"{amount:.2f}", s.case_id])
    detail = f"{month:%Y-%m} 保障金发放文件：{len(schedules)} 户，合计 {total:.2f} 元（含完整身份证号码）"
    record(session, entity_type="bank_file", entity_id=f"{month:%Y-%m}", action="export",
           after={"month": f"{month:%Y-%m}", "households": len(schedules), "total": f"{total:.2f}"})
    record_access(session, AccessKind.export_list, "bank_file", None, detail=detail)
    return BankFile(f"{county_code}-保障金发放-{month:%Y-%m}.csv", ("\ufeff" + out.getvalue()).encode("utf-8"),
                    len(schedules), total)


__all__ = ["COLUMNS", "BankFile", "bank_file", "parse_month"]
