"""Hooks for reminder subjects owned by other modules (monitoring warnings)."""

from __future__ import annotations


def warning_still_due(session, reminder) -> bool:
    """A warning reminder is due while its ticket is undecided and its deadline unchanged."""
    from jiuzhu.warnings.models import WarningStatus, WarningTicket

    ticket = session.get(WarningTicket, reminder.subject_id)
    return ticket is not None and ticket.status != WarningStatus.decided and ticket.due_on == reminder.due_on


def payment_still_due(session, reminder) -> bool:
    """A late-payment reminder is due while a month of its schedule owed by that day is unpaid."""
    from jiuzhu.payments.models import BenefitSchedule
    from jiuzhu.payments.services import months_due, schedule_of

    schedule = session.get(BenefitSchedule, reminder.subject_id)
    if schedule is None:
        return False
    schedule = schedule_of(session, schedule.case_id)
    return any(m.pay_by == reminder.due_on and m.paid_on is None for m in months_due(schedule, reminder.due_on))
