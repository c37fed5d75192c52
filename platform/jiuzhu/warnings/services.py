"""Receiving a warning ticket, the home verification visit, the decision, and the overdue list."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from flask import current_app
from sqlalchemy import select

from jiuzhu.audit import record
from jiuzhu.auth.models import User
from jiuzhu.cases.idcard import InvalidIdNumber, parse_id_number
from jiuzhu.cases.services import household_of_person
from jiuzhu.clock import china_today
from jiuzhu.errors import NotFound, PermissionDenied, ValidationError
from jiuzhu.plugins.rules import WarningRule
from jiuzhu.reminders.planner import sync_warning
from jiuzhu.tenancy.context import require_scope
from jiuzhu.tenancy.models import OrgLevel, OrgUnit, Tenant
from jiuzhu.warnings.models import WarningDecision, WarningStatus, WarningTicket
from jiuzhu.workflow.deadlines import compute
from jiuzhu.workflow.spec import Due

TOWNSHIP_ACTS = "预警单据由乡镇（街道）组织入户核查并作出确认决定；县级可查看全部单据，村（社区）可协助核查但不能办理。"


def _tenant_plugin(session):
    tenant = session.get(Tenant, require_scope().tenant_id)
    return current_app.extensions["jiuzhu.plugins"].get(tenant.plugin_key), tenant


def _require_township(user: User) -> None:
    if not user.role.is_township:
        raise PermissionDenied(TOWNSHIP_ACTS, code="township_acts")


def warning_due(plugin, settings: dict) -> Due:
    """The plugin's deadline, shortened where the county set ``warning_workdays`` (never lengthened)."""
    rule: WarningRule | None = getattr(plugin, "warning_rule", None)
    if rule is None:
        raise ValidationError(f"{plugin.name}的规则未规定预警单据的处置时限。")
    days = settings.get("warning_workdays")
    if days is not None and 0 < int(days) < rule.due.days:
        return replace(rule.due, days=int(days))
    return rule.due


def ticket_due(plugin, settings: dict, origin: str) -> tuple[Due, WarningRule]:
    """The deadline of a ticket of this origin and the rule it comes from (the plugin's ``ticket_rules``)."""
    rules = plugin.ticket_rules(settings)
    if origin not in rules:
        what = "预警单据" if origin == "monitoring" else f"“{plugin.TICKET_ORIGINS.get(origin, origin)}”"
        raise ValidationError(field_errors={"origin": [f"{plugin.name}的规则未规定{what}的处置时限，不能登记。"]})
    if origin == "monitoring":
        return warning_due(plugin, settings), rules[origin]
    return rules[origin].due, rules[origin]


def receive(session, user: User | None, *, township: OrgUnit, id_number: str, source_ref: str, summary: str,
            received_on: dt.date | None = None, origin: str = "monitoring") -> WarningTicket:
    """A ticket returned by the monitoring platform — or, where the rules take them, a 12345 hotline
    ticket (``origin``) — for the township of the household.

    ``user`` is None when the platform's push arrives through the integration job (in the county's
    scope); a person entering a ticket must be county staff, or township staff for their own township."""
    received_on = received_on or china_today()
    if user is not None and user.role.is_village:
        raise PermissionDenied(TOWNSHIP_ACTS, code="township_acts")
    plugin, tenant = _tenant_plugin(session)
    settings = plugin.tenant_settings(tenant.id)
    due, rule = ticket_due(plugin, settings, origin)
    errors = []
    try:
        number = parse_id_number(id_number, received_on).number
    except InvalidIdNumber as exc:
        errors.append(f"预警对象身份证号码有误：{exc}")
        number = None
    if township is None or township.level != OrgLevel.township:
        errors.append("请指定负责处置的乡镇（街道）。")
    source_ref = (source_ref or "").strip()
    if not source_ref:
        errors.append("请填写预警单据编号。")
    elif session.scalar(select(WarningTicket.id).where(WarningTicket.source_ref == source_ref)):
        errors.append(f"预警单据 {source_ref} 已登记，不能重复登记。")
    if not (summary or "").strip():
        errors.append("请填写预警内容。")
    household = None
    if number is not None:
        household = household_of_person(session, number)
    if household is not None and township is not None and household.township_id != township.id:
        errors.append("该对象的家庭登记在其他乡镇（街道），请交由其所在乡镇（街道）处置。")
    if errors:
        raise ValidationError(*errors)
    deadline = compute(due, received_on)
    returned = "预警单据返回" if origin == "monitoring" else "工单交办"
    ticket = WarningTicket(township_id=township.id, village_id=household.village_id if household else None,
                           id_number=number, household_id=household.id if household else None, origin=origin,
                           source_ref=source_ref, summary=summary.strip(), received_on=received_on,
                           due_on=deadline.due, due_provisional=deadline.provisional,
                           due_rule=f"{due.describe().replace('环节开始', returned)}（{rule.source}）"[:300],
                           received_by_id=user.id if user else None)
    session.add(ticket)
    session.flush()
    sync_warning(session, ticket, settings, china_today())
    record(session, entity_type="warning_ticket", entity_id=ticket.id, action="receive",
           after={"source_ref": source_ref, "origin": origin, "received_on": received_on.isoformat(),
                  "due_on": ticket.due_on.isoformat()})
    return ticket


def _ticket(session, ticket_id: int) -> WarningTicket:
    ticket = session.get(WarningTicket, ticket_id)
    if ticket is None:
        raise NotFound("该预警单据不存在，或不在您的管辖范围内。")
    return ticket


def record_visit(session, user: User, ticket_id: int, *, visited_on: dt.date, visitors: list[str], findings: str,
                 on: dt.date | None = None) -> WarningTicket:
    """组织工作人员上门开展入户核查."""
    on = on or china_today()
    _require_township(user)
    ticket = _ticket(session, ticket_id)
    errors = []
    if ticket.status == WarningStatus.decided:
        errors.append("该预警单据已作出确认决定。")
    names = [v.strip() for v in visitors or [] if v and v.strip()]
    if not names:
        errors.append("请填写上门核查的工作人员。")
    if not (findings or "").strip():
        errors.append("请填写入户核查情况。")
    if visited_on < ticket.received_on:
        errors.append(f"入户核查日期不能早于单据返回日期 {ticket.received_on:%Y-%m-%d}。")
    if visited_on > on:
        errors.append("入户核查日期不能晚于今天。")
    if errors:
        raise ValidationError(*errors)
    ticket.status, ticket.visited_on, ticket.visitors = WarningStatus.visited, visited_on, names
    ticket.visit_findings = findings.strip()
    session.flush()
    record(session, entity_type="warning_ticket", entity_id=ticket.id, action="visit",
           after={"visited_on": visited_on.isoformat(), "visitors": names})
    return ticket


def request_clarification(session, user: User, ticket_id: int, *, question: str,
                          on: dt.date | None = None) -> WarningTicket:
    """申请点对点查看: the township asks the county about an unclear warning. The deadline stands:
    limited access is no reason for late handling (不得将…信息获取权限有限作为未及时开展预警处置的理由)."""
    on = on or china_today()
    _require_township(user)
    ticket = _ticket(session, ticket_id)
    if not (question or "").strip():
        raise ValidationError("请写明需要县级点对点查看的内容。")
    if ticket.status == WarningStatus.decided:
        raise ValidationError("该预警单据已作出确认决定。")
    ticket.clarification = {"asked_on": on.isoformat(), "question": question.strip(), "asked_by": user.full_name}
    session.flush()
    record(session, entity_type="warning_ticket", entity_id=ticket.id, action="ask", after=ticket.clarification)
    return ticket


def answer_clarification(session, user: User, ticket_id: int, *, answer: str, on: dt.date | None = None) -> WarningTicket:
    """The county's point-to-point look at the warning, answered to the township."""
    on = on or china_today()
    if not user.role.is_county:
        raise PermissionDenied("点对点查看由县级社会救助部门办理。")
    ticket = _ticket(session, ticket_id)
    if not ticket.clarification:
        raise ValidationError("该单据没有点对点查看申请。")
    if not (answer or "").strip():
        raise ValidationError("请填写查看结果。")
    ticket.clarification = {**ticket.clarification, "answered_on": on.isoformat(), "answer": answer.strip(),
                            "answered_by": user.full_name}
    session.flush()
    record(session, entity_type="warning_ticket", entity_id=ticket.id, action="clarify", after=ticket.clarification)
    return ticket


def decide(session, user: User, ticket_id: int, *, decision: str, online_check: str, reason: str,
           decided_on: dt.date | None = None) -> WarningTicket:
    """依据线上核查及实际入户结果，综合研判救助对象是否符合救助条件，并作出确认决定."""
    decided_on = decided_on or china_today()
    _require_township(user)
    ticket = _ticket(session, ticket_id)
    errors = []
    if ticket.status == WarningStatus.decided:
        errors.append("该预警单据已作出确认决定。")
    elif ticket.status != WarningStatus.visited:
        errors.append("须先上门开展入户核查，再作出确认决定。")
    elif decided_on < ticket.visited_on:
        errors.append(f"确认决定日期不能早于入户核查日期 {ticket.visited_on:%Y-%m-%d}。")
    if decision not in WarningDecision.__members__:
        errors.append("确认决定须为“符合救助条件”或“不符合救助条件”。")
    if not (online_check or "").strip():
        errors.append("请填写线上核查结果。")
    if not (reason or "").strip():
        errors.append("请填写研判理由。")
    if errors:
        raise ValidationError(*errors)
    ticket.status, ticket.decision, ticket.decided_on = WarningStatus.decided, WarningDecision(decision), decided_on
    ticket.online_check, ticket.decision_reason, ticket.decided_by_id = online_check.strip(), reason.strip(), user.id
    session.flush()
    record(session, entity_type="warning_ticket", entity_id=ticket.id, action="decide",
           after={"decision": decision, "decided_on": decided_on.isoformat(), "late": ticket.overdue_on(decided_on)})
    return ticket


def open_tickets(session) -> list[WarningTicket]:
    """Tickets not yet decided, by deadline (the township's to-do list; the county sees all)."""
    return list(session.scalars(select(WarningTicket).where(WarningTicket.status != WarningStatus.decided)
                                .order_by(WarningTicket.due_on, WarningTicket.id)))


def overdue_tickets(session, today: dt.date | None = None) -> list[WarningTicket]:
    """超时未处理的单据 — flagged automatically for the county's supervision: open past the deadline,
    or decided after it."""
    today = today or china_today()
    late_open = (WarningTicket.status != WarningStatus.decided) & (WarningTicket.due_on < today)
    late_done = (WarningTicket.status == WarningStatus.decided) & (WarningTicket.decided_on > WarningTicket.due_on)
    return list(session.scalars(select(WarningTicket).where(late_open | late_done)
                                .order_by(WarningTicket.due_on, WarningTicket.id)))


__all__ = ["receive", "record_visit", "request_clarification", "answer_clarification", "decide", "open_tickets",
           "overdue_tickets", "warning_due", "ticket_due"]
