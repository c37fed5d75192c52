"""Benefit payments: monthly benefit schedules, one-off and staged temporary relief, advances."""
