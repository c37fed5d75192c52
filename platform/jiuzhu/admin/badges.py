"""The badge of a deadline (剩 n 个工作日, 今日到期, 超期 n 个工作日, 暂定) on the staff's screens.

A function, not a Jinja macro: the worklist shows one per row, and a macro (its call, its context,
four translated messages formatted through Markup) cost about as much as the rest of the row.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from jiuzhu.i18n_terms import gettext as _  # Babel extracts the messages by this name


def due_badge(left: int | None, provisional: bool = False) -> Markup:
    """``left``: working days left until the deadline (negative: late by that many; None: no
    deadline). ``provisional``: the deadline counts a year whose holidays are not yet published."""
    if left is None:
        html = '<span class="text-muted">—</span>'
    elif left < 0:
        html = f'<span class="badge badge-danger" data-testid="overdue">{escape(_("超期 %(n)s 个工作日") % {"n": -left})}</span>'
    elif left == 0:
        html = f'<span class="badge badge-warning">{escape(_("今日到期"))}</span>'
    else:
        kind = "badge-warning" if left <= 2 else "badge-light"
        html = f'<span class="badge {kind}">{escape(_("剩 %(n)s 个工作日") % {"n": left})}</span>'
    if provisional:
        html += (f' <span class="badge badge-info" title="{escape(_("该年度节假日安排尚未公布，暂按周末计算"))}">'
                 f'{escape(_("暂定"))}</span>')
    return Markup(html)
