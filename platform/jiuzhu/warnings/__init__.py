"""Monitoring warnings (预警单据) pushed back by the low-income population monitoring platform.

Each ticket goes to the township of the household: a home verification visit, then a decision on
whether the household (still) meets the conditions, within the plugin's ``WarningRule.due`` of the
ticket's arrival (Jingdezhen: 20 working days). Townships act; the county sees every ticket and
the overdue ones. Villages may read their own village's tickets and assist, never act.

The package is named ``warnings`` inside ``jiuzhu`` (``jiuzhu.warnings``); it never shadows the
standard library's ``warnings`` because nothing imports it by the bare name.
"""
