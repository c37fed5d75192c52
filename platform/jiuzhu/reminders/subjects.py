"""Hooks for reminder subjects owned by other modules (monitoring warnings)."""

from __future__ import annotations


def warning_still_due(session, reminder) -> bool:
    """Until the warnings module exists, a warning reminder is never due."""
    return False
