"""Personal data on screen: masked by default, shown in full only as an explicit, recorded act; and
the access log of who looked at whose information (PIPL).

* :mod:`~jiuzhu.privacy.masking` — how ID numbers, phones and contacts are masked everywhere;
* :func:`reveal` — one person's full ID number (or a household's phone, a reporter's contact) for
  a user who may see the row, recorded;
* :func:`record_personal_data_access` — the one place every full view is recorded (a reveal, a
  printed 一户一档 with full ID numbers): in the access log and, tamper-evident, in the audit chain;
* :mod:`~jiuzhu.privacy.services` — the access log itself (every household or case opened, every
  document downloaded, every list exported) and the alert on unusual volume.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask

from jiuzhu.auth.roles import Role
from jiuzhu.errors import NotFound, PermissionDenied
from jiuzhu.privacy.masking import mask_contact, mask_id_number, mask_phone

#: the audit action of a full view of personal data
ACCESS_ACTION = "view_personal_data"

#: who may ask for a full value: the people who handle cases and tickets; a county admin configures
#: the county and has no case work that needs a full ID number
MAY_REVEAL = frozenset({Role.township_staff, Role.township_leader, Role.county_staff, Role.village_assistant})


def record_personal_data_access(session, *, entity_type: str, entity_id: int | str, fields: Iterable[str],
                                purpose: str, case_id: int | None = None, household_id: int | None = None,
                                kind=None) -> None:
    """Record that the current actor saw ``fields`` of a row in full, and why (``purpose``): a row of
    the access log (committed at once, on its own connection) and an audit event (action
    ``view_personal_data``) in the caller's transaction — the caller commits."""
    from jiuzhu.audit import record
    from jiuzhu.privacy.models import AccessKind
    from jiuzhu.privacy.services import record_access

    record_access(session, kind or AccessKind.view_id_number, entity_type, int(entity_id) if str(entity_id).isdigit()
                  else None, household_id=household_id, detail=purpose)
    record(session, entity_type=entity_type, entity_id=entity_id, action=ACCESS_ACTION,
           after={"fields": sorted(fields), "purpose": purpose}, case_id=case_id)


@dataclass(frozen=True)
class Revealed:
    #: what is shown, in Chinese (e.g. 身份证号码)
    label: str
    value: str


def _targets():
    from jiuzhu.cases.households import Household, Member
    from jiuzhu.spotchecks.models import RealNameReport
    from jiuzhu.warnings.models import WarningTicket

    # what → (model, attribute, label, audit entity type)
    return {
        "member_id_number": (Member, "id_number", "身份证号码", "household_member"),
        "household_phone": (Household, "phone", "联系电话", "household"),
        "warning_id_number": (WarningTicket, "id_number", "预警对象身份证号码", "warning_ticket"),
        "reporter_contact": (RealNameReport, "reporter_contact", "举报人联系方式", "realname_report"),
    }


REVEALABLE = ("member_id_number", "household_phone", "warning_id_number", "reporter_contact")


def reveal(session, user, what: str, object_id: int) -> Revealed:
    """The full value of one field of one row the user may see, recorded; the caller commits.

    The row is loaded through the scoped session: another county's, township's or village's row is
    simply not found."""
    if user.role not in MAY_REVEAL:
        raise PermissionDenied("您的角色不能查看完整的个人信息。")
    targets = _targets()
    if what not in targets:
        raise NotFound("没有这项信息。")
    model, attribute, label, entity_type = targets[what]
    row = session.get(model, object_id)
    value = getattr(row, attribute, None) if row is not None else None
    if not value:
        raise NotFound("该记录不存在，或不在您的管辖范围内。")
    household_id = row.id if entity_type == "household" else getattr(row, "household_id", None)
    record_personal_data_access(session, entity_type=entity_type, entity_id=object_id, fields=[attribute],
                                purpose=f"查看完整{label}", household_id=household_id)
    return Revealed(label, value)


def reveal_for_request(what: str, object_id: int) -> Revealed:
    """:func:`reveal` for the logged-in user, committed with its record; 403 or 404 otherwise."""
    from flask import abort
    from flask_login import current_user

    from jiuzhu.extensions import db

    try:
        revealed = reveal(db.session, current_user, what, object_id)
        db.session.commit()
    except NotFound:
        db.session.rollback()
        abort(404)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    return revealed


def no_store(body):
    """A response that no cache keeps: pages and files showing personal data in full."""
    from flask import make_response

    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_privacy(app: Flask) -> None:
    """Templates mask with ``|mask_id``, ``|mask_phone`` and ``|mask_contact``."""
    app.jinja_env.filters.update(mask_id=mask_id_number, mask_phone=mask_phone, mask_contact=mask_contact)


__all__ = ["ACCESS_ACTION", "MAY_REVEAL", "REVEALABLE", "Revealed", "init_privacy", "mask_contact", "mask_id_number",
           "mask_phone", "no_store", "record_personal_data_access", "reveal", "reveal_for_request"]
