"""Payment services: start, pay, adjust and end a monthly benefit; grant and pay temporary relief.

Each function validates everything before it writes and raises ``ValidationError`` (Chinese
messages) or ``PermissionDenied``; the caller commits. Plugins call the ``start``/``grant``
functions from their ``on_outcome`` hook, in the transaction of the decision that causes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from jiuzhu.audit import record
from jiuzhu.auth.models import User
from jiuzhu.auth.roles import Role
from jiuzhu.cases.categories import CaseStatus
from jiuzhu.cases.models import Case
from jiuzhu.errors import NotFound, PermissionDenied, ValidationError
from jiuzhu.money import MoneyError, parse_money
from jiuzhu.payments.models import (
    BenefitPayment,
    BenefitSchedule,
    ReliefGrant,
    ReliefKind,
    ReliefPayment,
    add_months,
    first_of_next_month,
)

CENT = Decimal("0.01")

#: who pays monthly benefits: the county, never a township or a village (权钱分离)
BENEFIT_PAYERS = frozenset({Role.county_staff, Role.county_admin})
#: who pays temporary relief: the confirming township out of its relief reserve, or the county
RELIEF_PAYERS = frozenset({Role.township_staff, Role.township_leader, Role.county_staff, Role.county_admin})


def _money(value, what: str) -> Decimal:
    try:
        return parse_money(value, what, positive=True)
    except MoneyError as exc:
        raise ValidationError(str(exc)) from None


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


# -- monthly benefits -----------------------------------------------------------------------------

@dataclass(frozen=True)
class MonthDue:
    """One month of a schedule: how much, paid by when, and whether it was paid."""

    month: dt.date
    amount: Decimal
    pay_by: dt.date | None
    paid_on: dt.date | None


def start_benefits(session, case: Case, *, category: str, on: dt.date, pay_by_day: int | None = None,
                   paid_through: str | None = None) -> BenefitSchedule:
    """The schedule of an approved case, from its ``benefit_start`` at its ``monthly_amount``."""
    errors = []
    if case.status != CaseStatus.approved:
        errors.append("只有已确认给予救助的案件才能建立发放计划。")
    if case.monthly_amount is None or case.monthly_amount <= 0:
        errors.append("案件没有确定月保障金额，不能建立发放计划。")
    if case.benefit_start is None:
        errors.append("案件没有确定起始发放月份，不能建立发放计划。")
    if session.scalar(select(BenefitSchedule.id).where(BenefitSchedule.case_id == case.id)) is not None:
        errors.append("该案件已有发放计划。")
    if errors:
        raise ValidationError(*errors)
    schedule = BenefitSchedule(case_id=case.id, tenant_id=case.tenant_id, category=category,
                               monthly_amount=case.monthly_amount, start_month=month_of(case.benefit_start),
                               pay_by_day=pay_by_day, paid_through=paid_through, created_on=on)
    schedule.case = case
    session.add(schedule)
    session.flush()
    record(session, entity_type="benefit_schedule", entity_id=schedule.id, action="start", case_id=case.id,
           after={"monthly_amount": str(schedule.monthly_amount), "start_month": schedule.start_month.isoformat()})
    return schedule


def schedule_of(session, case_id: int) -> BenefitSchedule | None:
    """The case's schedule with its payments (one statement each, whatever the months)."""
    from sqlalchemy.orm import selectinload

    return session.scalars(select(BenefitSchedule).where(BenefitSchedule.case_id == case_id)
                           .options(selectinload(BenefitSchedule.payments))).one_or_none()


def pay_by(schedule: BenefitSchedule, month: dt.date) -> dt.date | None:
    """The day a month's benefit must have reached the household (每月 N 日前发放). Never before the
    confirmation: a month confirmed after its pay day is paid by the next one (with the month after)."""
    if not schedule.pay_by_day:
        return None
    day = month.replace(day=schedule.pay_by_day)
    confirmed = schedule.created_on
    if confirmed is not None and day < confirmed:
        day = confirmed.replace(day=schedule.pay_by_day)
        if day < confirmed:
            day = add_months(day.replace(day=1), 1).replace(day=schedule.pay_by_day)
    return day


def months_due(schedule: BenefitSchedule, through: dt.date) -> list[MonthDue]:
    """Every month from the start month up to ``through``'s month (or the end month, if earlier)."""
    last = month_of(through)
    if schedule.end_month is not None and schedule.end_month < last:
        last = schedule.end_month
    paid = {p.month: p for p in schedule.payments}
    out = []
    month = schedule.start_month
    while month <= last:
        p = paid.get(month)
        out.append(MonthDue(month, p.amount if p else schedule.monthly_amount, pay_by(schedule, month),
                            p.paid_on if p else None))
        month = add_months(month, 1)
    return out


@dataclass(frozen=True)
class LateMonth:
    """A month of benefit not paid by its pay-by day (每月 N 日前发放), as the county's list shows it."""

    case_id: int
    schedule_id: int
    township_id: int | None
    village_id: int | None
    month: dt.date
    amount: Decimal
    pay_by: dt.date
    days_late: int


def late_months(session, on: dt.date) -> list[LateMonth]:
    """Every month of every schedule with a pay-by day that is still unpaid after it, in the user's
    scope (the county: all its townships), the longest overdue first. A stopped or ended schedule
    still owes the months before its end."""
    from sqlalchemy.orm import selectinload

    schedules = session.scalars(select(BenefitSchedule).where(BenefitSchedule.pay_by_day.is_not(None),
                                                              BenefitSchedule.start_month <= month_of(on))
                                .options(selectinload(BenefitSchedule.payments),
                                         selectinload(BenefitSchedule.case).load_only(Case.township_id, Case.village_id))
                                .order_by(BenefitSchedule.id)).all()
    out = []
    for schedule in schedules:
        for due in months_due(schedule, on):
            if due.paid_on is None and due.pay_by is not None and due.pay_by < on:
                out.append(LateMonth(schedule.case_id, schedule.id, schedule.case.township_id,
                                     schedule.case.village_id, due.month, due.amount, due.pay_by,
                                     (on - due.pay_by).days))
    return sorted(out, key=lambda m: (m.pay_by, m.case_id, m.month))


def pay_month(session, user: User, schedule_id: int, month: dt.date, *, on: dt.date) -> BenefitPayment:
    """The county pays one month of a schedule."""
    if user.role not in BENEFIT_PAYERS:
        raise PermissionDenied("保障金由县级民政部门发放（权钱分离），乡镇（街道）和村（社区）不能发放。")
    schedule = session.get(BenefitSchedule, schedule_id)
    if schedule is None:
        raise NotFound("发放计划不存在，或不在您的管辖范围内。")
    month = month_of(month)
    errors = []
    if month < schedule.start_month:
        errors.append(f"{month:%Y年%m月}早于起始发放月份{schedule.start_month:%Y年%m月}。")
    if schedule.end_month is not None and month > schedule.end_month:
        errors.append(f"保障金发放至{schedule.end_month:%Y年%m月}止，{month:%Y年%m月}不再发放。")
    if month > month_of(on):
        errors.append(f"不能提前发放{month:%Y年%m月}的保障金。")
    if schedule.end_month is None and schedule.case.status != CaseStatus.approved:
        errors.append(f"案件当前状态为“{schedule.case.status.label}”，不能发放保障金。")
    if any(p.month == month for p in schedule.payments):
        errors.append(f"{month:%Y年%m月}的保障金已发放，不能重复发放。")
    if errors:
        raise ValidationError(*errors)
    payment = BenefitPayment(schedule_id=schedule.id, case_id=schedule.case_id, tenant_id=schedule.tenant_id,
                             month=month, amount=schedule.monthly_amount, paid_on=on, paid_by_id=user.id)
    schedule.payments.append(payment)
    session.flush()
    record(session, entity_type="benefit_payment", entity_id=payment.id, action="pay", case_id=schedule.case_id,
           after={"month": month.isoformat(), "amount": str(payment.amount), "paid_on": on.isoformat()})
    return payment


def adjust_amount(session, schedule: BenefitSchedule, amount: Decimal) -> None:
    """A review continues benefits at a new amount (months already paid keep theirs)."""
    before = str(schedule.monthly_amount)
    schedule.monthly_amount = _money(amount, "月保障金额")
    record(session, entity_type="benefit_schedule", entity_id=schedule.id, action="adjust", case_id=schedule.case_id,
           before={"monthly_amount": before}, after={"monthly_amount": str(schedule.monthly_amount)})


def stop_benefits(session, schedule: BenefitSchedule, *, decided_on: dt.date, reason: str) -> None:
    """Benefits stop after the month of the decision (停发)."""
    last = month_of(decided_on)
    if schedule.end_month is None or schedule.end_month > last:
        schedule.end_month = last
    schedule.end_reason = reason
    record(session, entity_type="benefit_schedule", entity_id=schedule.id, action="stop", case_id=schedule.case_id,
           after={"end_month": schedule.end_month.isoformat(), "reason": reason})


def grant_gradual_exit(session, schedule: BenefitSchedule, *, months: int, max_months: int, decided_on: dt.date,
                       reason: str, min_months: int = 1) -> dt.date:
    """渐退期: benefits continue ``months`` months after the month of the decision, then stop (no month
    after the end is paid: :func:`pay_month`). Returns the exit date (the first day no longer paid for)."""
    if not min_months <= months <= max_months:
        raise ValidationError(f"渐退期须为 {min_months} 至 {max_months} 个月。")
    if schedule.end_month is not None:
        raise ValidationError(f"该户的保障金已确定发放至{schedule.end_month:%Y年%m月}止，不能再给予渐退期。")
    schedule.end_month = add_months(month_of(decided_on), months)
    schedule.gradual_exit_months = months
    schedule.gradual_exit_decided_on = decided_on
    schedule.end_reason = reason
    record(session, entity_type="benefit_schedule", entity_id=schedule.id, action="gradual_exit",
           case_id=schedule.case_id, after={"months": months, "end_month": schedule.end_month.isoformat(),
                                            "exit_on": schedule.exit_on.isoformat(), "reason": reason})
    return schedule.exit_on


def gradual_exits_ended(session, on: dt.date) -> list[BenefitSchedule]:
    """Schedules whose gradual exit is over by ``on`` while the case is still open for benefits:
    the township ends those cases (退出)."""
    rows = session.scalars(select(BenefitSchedule).join(Case, Case.id == BenefitSchedule.case_id).where(
        BenefitSchedule.gradual_exit_months.is_not(None), BenefitSchedule.end_month < month_of(on),
        Case.status == CaseStatus.approved).order_by(BenefitSchedule.end_month, BenefitSchedule.id)).all()
    return list(rows)


# -- temporary relief -----------------------------------------------------------------------------

def grant_relief(session, case: Case, *, kind: ReliefKind, total: Decimal, stages: Sequence[tuple[Decimal, dt.date | None]],
                 approved_on: dt.date, reason: str, due_on: dt.date | None = None, counted_advance: Decimal = Decimal("0"),
                 recipient: str | None = None, user: User | None = None) -> ReliefGrant:
    """Approve relief once and plan its payments (one stage for a one-off grant).

    ``counted_advance``: an advance already paid that counts towards ``total``; the stages then
    add up to the rest.
    """
    total = _money(total, "救助金额")
    amounts = [_money(amount, f"第 {i} 次发放金额") for i, (amount, _) in enumerate(stages, start=1)]
    errors = []
    if not amounts:
        errors.append("请至少安排一次发放。")
    if kind == ReliefKind.one_off and len(amounts) != 1:
        errors.append("一次性临时救助只能发放一次。")
    if kind == ReliefKind.advance:
        errors.append("小金额先行救助请用先行发放登记。")
    if sum(amounts, Decimal("0")) + counted_advance != total:
        advance = f"（已先行救助 {counted_advance} 元）" if counted_advance else ""
        errors.append(f"各次发放金额合计须等于批准的救助金额 {total} 元{advance}。")
    if not (reason or "").strip():
        errors.append("请填写救助事由。")
    if errors:
        raise ValidationError(*errors)
    grant = ReliefGrant(case_id=case.id, tenant_id=case.tenant_id, kind=kind, total_amount=total,
                        approved_on=approved_on, due_on=due_on, reason=reason.strip(), recipient=recipient,
                        created_by_id=user.id if user else None, handler_signatures=[], sealed=False)
    grant.case = case
    for stage, (amount, (_, planned_on)) in enumerate(zip(amounts, stages, strict=True), start=1):
        grant.payments.append(ReliefPayment(case_id=case.id, tenant_id=case.tenant_id, stage=stage, amount=amount,
                                            planned_on=planned_on))
    session.add(grant)
    session.flush()
    record(session, entity_type="relief_grant", entity_id=grant.id, action="grant", case_id=case.id,
           after={"kind": kind.value, "total": str(total), "stages": [str(a) for a in amounts]})
    return grant


def relief_grants(session, case_id: int) -> list[ReliefGrant]:
    """The case's temporary-relief grants with their stages (one statement each, however many)."""
    from sqlalchemy.orm import selectinload

    return list(session.scalars(select(ReliefGrant).where(ReliefGrant.case_id == case_id)
                                .options(selectinload(ReliefGrant.payments)).order_by(ReliefGrant.id)))


def _check_relief_payer(user: User) -> None:
    if user.role not in RELIEF_PAYERS:
        raise PermissionDenied("临时救助金由审核确认的乡镇（街道、园区）或县级民政部门发放，村（社区）不能发放。")


def pay_relief(session, user: User, payment_id: int, *, on: dt.date, voucher_no: str | None = None) -> ReliefPayment:
    """Pay one planned stage, in order."""
    _check_relief_payer(user)
    payment = session.get(ReliefPayment, payment_id)
    if payment is None:
        raise NotFound("该笔救助金不存在，或不在您的管辖范围内。")
    grant = payment.grant
    from jiuzhu.workflow import engine

    case = session.get(Case, payment.case_id)
    # “由急难发生地审核并发放”: the township that approved the relief pays it, not another of the case
    engine.check_township(user, case, engine.deciding_township(case), what="发放临时救助金")
    errors = []
    if payment.paid_on is not None:
        errors.append(f"第 {payment.stage} 次救助金已于 {payment.paid_on:%Y-%m-%d} 发放，不能重复发放。")
    earlier = [p.stage for p in grant.payments if p.stage < payment.stage and p.paid_on is None]
    if earlier:
        errors.append(f"请先发放第 {'、'.join(map(str, earlier))} 次救助金。")
    if on < grant.approved_on:
        errors.append(f"发放日期不能早于批准日期 {grant.approved_on:%Y-%m-%d}。")
    if errors:
        raise ValidationError(*errors)
    payment.paid_on, payment.paid_by_id, payment.voucher_no = on, user.id, (voucher_no or "").strip() or None
    session.flush()
    record(session, entity_type="relief_payment", entity_id=payment.id, action="pay", case_id=payment.case_id,
           after={"stage": payment.stage, "amount": str(payment.amount), "paid_on": on.isoformat()})
    return payment


def pay_advance(session, user: User, case: Case, *, amount, ceiling: Decimal | None, on: dt.date,
                recipient: str | None = None, reason: str | None = None, emergency_place: str | None = None,
                voucher_no: str | None = None) -> ReliefGrant:
    """小金额先行救助: pay a small amount at once; who, why and how much are registered and the
    signatures and seals added afterwards (:func:`complete_paperwork`)."""
    _check_relief_payer(user)
    if ceiling is None:
        raise ValidationError("县级民政部门尚未设定小金额先行救助的金额上限，不能先行救助。")
    amount = _money(amount, "先行救助金额")
    if amount > ceiling:
        raise ValidationError(f"先行救助金额 {amount} 元超过县级设定的上限 {ceiling} 元，请按临时救助程序审批。")
    grant = ReliefGrant(case_id=case.id, tenant_id=case.tenant_id, kind=ReliefKind.advance, total_amount=amount,
                        approved_on=on, reason=(reason or "").strip() or "急难情形，先行救助",
                        recipient=(recipient or "").strip() or None, emergency_place=emergency_place,
                        created_by_id=user.id, handler_signatures=[], sealed=False)
    grant.case = case
    grant.payments.append(ReliefPayment(case_id=case.id, tenant_id=case.tenant_id, stage=1, amount=amount,
                                        planned_on=on, paid_on=on, paid_by_id=user.id, voucher_no=voucher_no))
    session.add(grant)
    session.flush()
    record(session, entity_type="relief_grant", entity_id=grant.id, action="advance", case_id=case.id,
           after={"amount": str(amount), "paid_on": on.isoformat(), "emergency_place": emergency_place})
    return grant


def complete_paperwork(session, user: User, grant_id: int, *, recipient: str, reason: str, amount,
                       signatures: Sequence[str], sealed: bool, on: dt.date) -> ReliefGrant:
    """After the emergency: register the person, the reason and the amount, with the handlers'
    signatures and the seal (补齐经办人员签字、盖章等手续)."""
    _check_relief_payer(user)
    grant = session.get(ReliefGrant, grant_id)
    if grant is None:
        raise NotFound("先行救助记录不存在，或不在您的管辖范围内。")
    signed = [s.strip() for s in signatures if s and s.strip()]
    errors = []
    if grant.kind != ReliefKind.advance:
        errors.append("只有小金额先行救助需要补齐手续。")
    elif grant.paperwork_completed_on is not None:
        errors.append(f"手续已于 {grant.paperwork_completed_on:%Y-%m-%d} 补齐。")
    if not (recipient or "").strip():
        errors.append("请登记救助对象。")
    if not (reason or "").strip():
        errors.append("请登记救助事由。")
    try:
        registered = _money(amount, "登记的救助金额")
    except ValidationError as exc:
        errors += exc.messages
    else:
        if registered != grant.total_amount:
            errors.append(f"登记的救助金额 {registered} 元与先行发放的 {grant.total_amount} 元不一致。")
    if not signed:
        errors.append("请补齐经办人员签字。")
    if not sealed:
        errors.append("请补齐盖章手续。")
    if on < grant.approved_on:
        errors.append(f"补齐手续的日期不能早于先行救助日期 {grant.approved_on:%Y-%m-%d}。")
    if errors:
        raise ValidationError(*errors)
    grant.recipient, grant.reason = recipient.strip(), reason.strip()
    grant.handler_signatures, grant.sealed, grant.paperwork_completed_on = signed, True, on
    session.flush()
    record(session, entity_type="relief_grant", entity_id=grant.id, action="paperwork", case_id=grant.case_id,
           after={"recipient": grant.recipient, "signatures": signed, "completed_on": on.isoformat()})
    return grant


def advances_awaiting_paperwork(session) -> list[ReliefGrant]:
    """Advances paid whose paperwork is not yet complete, oldest first (in the user's scope)."""
    return list(session.scalars(select(ReliefGrant).where(
        ReliefGrant.kind == ReliefKind.advance, ReliefGrant.paperwork_completed_on.is_(None))
        .order_by(ReliefGrant.approved_on, ReliefGrant.id)))


__all__ = ["BENEFIT_PAYERS", "RELIEF_PAYERS", "MonthDue", "LateMonth", "late_months", "start_benefits", "schedule_of", "months_due", "pay_month",
           "adjust_amount", "stop_benefits", "grant_gradual_exit", "gradual_exits_ended", "grant_relief",
           "relief_grants", "pay_relief", "pay_advance", "complete_paperwork", "advances_awaiting_paperwork",
           "first_of_next_month"]
