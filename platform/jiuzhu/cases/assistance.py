"""Assistance records (协助记录): what a village assistant — or township staff — did to help a case
along: a home visit, help with the investigation, delivering a notice, a report to the township.
They are records, never decisions: the village rule is untouched, and the case page shows them in
its timeline; the case file prints them.
"""

from __future__ import annotations

from jiuzhu.auth.models import User
from jiuzhu.cases.files import UPLOADERS
from jiuzhu.errors import PermissionDenied, ValidationError
from jiuzhu.workflow import engine

# -- assistance records ------------------------------------------------------------------------------

def record_assistance(session, user: User, case_id: int, *, kind: str, done_on, content: str,
                      on=None):
    """协助记录: what the village (or township) did for the case — a record, never a decision."""
    from jiuzhu.cases.models import AssistanceKind, AssistanceRecord
    from jiuzhu.clock import china_today

    on = on or china_today()
    if user.role not in UPLOADERS:
        raise PermissionDenied(f"{user.role.label}不能登记协助记录。")
    case = engine.lock_case(session, case_id)
    errors: dict[str, list[str]] = {}
    if kind not in AssistanceKind.__members__:
        errors["kind"] = ["协助类别须为：" + "、".join(k.label for k in AssistanceKind) + "。"]
    if done_on is None:
        errors["done_on"] = ["日期格式应为 YYYY-MM-DD。"]
    elif done_on > on:
        errors["done_on"] = ["协助日期不能晚于今天。"]
    elif done_on < case.applied_on:
        errors["done_on"] = [f"协助日期不能早于申请日期 {case.applied_on:%Y-%m-%d}。"]
    text = (content or "").strip()
    if not text:
        errors["content"] = ["请填写协助情况。"]
    elif len(text) > 2000:
        errors["content"] = ["协助情况不超过 2000 字。"]
    if errors:
        raise ValidationError(field_errors=errors)
    row = AssistanceRecord(case_id=case.id, tenant_id=case.tenant_id, kind=AssistanceKind(kind), done_on=done_on,
                           content=text, recorded_by_id=user.id, recorded_by_name=user.full_name)
    session.add(row)
    session.flush()
    return row


__all__ = ["record_assistance"]
