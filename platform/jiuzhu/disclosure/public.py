"""The public publicity pages (公示): per county, township and village, no login.

A page shows exactly what :func:`jiuzhu.disclosure.services.publicity_list` returns under the
county's plugin — the rule's fields only, names masked, minors left out, within the display
periods — and can be printed or downloaded as the sheet to post on the board. Nothing else of the
county is read here: the request enters the county's scope only to compute that list.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template
from sqlalchemy import select

from jiuzhu.clock import china_today
from jiuzhu.disclosure.services import publicity_list
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgLevel, OrgUnit, Tenant

bp = Blueprint("public", __name__, url_prefix="/public")


def _county(code: str):
    """The active county with this code and its plugin, or 404."""
    with use_scope(Scope.platform()):
        tenant = db.session.scalar(select(Tenant).where(Tenant.code == code, Tenant.active.is_(True)))
    plugins = current_app.extensions["jiuzhu.plugins"]
    if tenant is None or tenant.plugin_key not in plugins:
        abort(404)
    return tenant, plugins.get(tenant.plugin_key)


def _place_lists(tenant: Tenant, plugin, unit_id: int):
    """The unit (a township or a village of this county) and its lists today."""
    today = china_today()
    with use_scope(Scope(tenant.id)):
        unit = db.session.get(OrgUnit, unit_id)
        if unit is None or unit.level not in (OrgLevel.township, OrgLevel.village):
            abort(404)
        if unit.level == OrgLevel.township:  # the township and its villages
            lists = publicity_list(db.session, today, plugin=plugin, township_id=unit.id)
        else:  # reads only the households living or registered in the village
            lists = publicity_list(db.session, today, plugin=plugin, unit_ids={unit.id})
        name = unit.name
        parent = db.session.get(OrgUnit, unit.parent_id) if unit.level == OrgLevel.village else None
        villages = (db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.name)).all()
                    if unit.level == OrgLevel.township else [])
        db.session.expunge_all()
    return unit, name, parent, villages, lists, today


def objection_contacts(tenant: Tenant, unit: OrgUnit) -> str:
    """Where a resident objects, with the phones the county has set (组织机构 · 联系电话): the
    township's government and the county's civil-affairs bureau."""
    with use_scope(Scope(tenant.id)):
        township = unit if unit.level == OrgLevel.township else db.session.get(OrgUnit, unit.parent_id)
        county = db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)))
        offices = [(township.government, township.contact_phone) if township is not None else None,
                   (f"{tenant.name}民政局", county.contact_phone if county is not None else None)]
    said = [f"{name}（电话：{phone}）" if phone else name for name, phone in filter(None, offices)]
    return f"如有异议，请在公示期内向{'或'.join(said)}反映，可署名、来电或来访。"


def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # the list changes as cases move; never a stale copy
    response.headers["X-Robots-Tag"] = "noindex, nofollow"  # posted for the neighbours, not for search engines
    return response


@bp.route("/<code>/")
def county(code: str):
    tenant, plugin = _county(code)
    with use_scope(Scope(tenant.id)):
        units = db.session.scalars(select(OrgUnit).where(OrgUnit.level.in_([OrgLevel.township, OrgLevel.village]))
                                   .order_by(OrgUnit.name)).all()  # one query, not one per township
        tree = [(t, [v for v in units if v.parent_id == t.id]) for t in units if t.level == OrgLevel.township]
        html = render_template("public/county.html", tenant=tenant, plugin=plugin, tree=tree, today=china_today())
    return _headers(Response(html))


@bp.route("/<code>/<int:unit_id>/")
def place(code: str, unit_id: int):
    tenant, plugin = _county(code)
    unit, name, parent, villages, lists, today = _place_lists(tenant, plugin, unit_id)
    return _headers(Response(render_template(
        "public/place.html", tenant=tenant, plugin=plugin, unit=unit, name=name, parent=parent, villages=villages,
        lists=lists, today=today, rule=plugin.disclosure_rule, contacts=objection_contacts(tenant, unit))))


@bp.route("/<code>/<int:unit_id>/sheet.pdf")
def sheet(code: str, unit_id: int):
    from jiuzhu.documents import publicity_sheet_pdf

    tenant, plugin = _county(code)
    unit, name, parent, villages, lists, today = _place_lists(tenant, plugin, unit_id)
    place_name = f"{tenant.name}{parent.name if parent else ''}{name}"
    data = publicity_sheet_pdf(tenant, plugin, lists, today, place_name, objection_contacts(tenant, unit))
    return _headers(Response(data, mimetype="application/pdf",
                             headers={"Content-Disposition": f"inline; filename=publicity-{unit_id}.pdf"}))
