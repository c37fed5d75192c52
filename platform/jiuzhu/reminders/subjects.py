"""Hooks for reminder subjects owned by other modules (monitoring warnings)."""

from __future__ import annotations


def warning_still_due(session, reminder) -> bool:
    """A warning reminder is due while its ticket is undecided and its deadline unchanged."""
    from jiuzhu.warnings.models import WarningStatus, WarningTicket

    ticket = session.get(WarningTicket, reminder.subject_id)
    return ticket is not None and ticket.status != WarningStatus.decided and ticket.due_on == reminder.due_on
