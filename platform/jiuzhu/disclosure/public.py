"""The public publicity pages (公示): per county, township and village, no login.

A page shows exactly what :func:`jiuzhu.disclosure.services.publicity_list` returns under the
county's plugin — the rule's fields only, names masked, minors left out, within the display
periods — and can be printed or downloaded as the sheet to post on the board. Nothing else of the
county is read here: the request enters the county's scope only to compute that list.

A rendered page (a county's index, a village's page, a page of a township) is kept in Redis for
:data:`PAGE_TTL_SECONDS` under a key of the instance, the county, the unit and page, the China
day and the language, together with the county's and the global *publicity generation* it was
rendered under, which every committed write of the county (or of the platform) moves
(:mod:`jiuzhu.disclosure.generation`); it is served only while both are current. A hit costs the
county's lookup and one Redis round trip instead of the list. The county is looked up first,
so a code that is no county (or an inactive one) is a 404 before any cache is read, and a unit id
is cached only under the county it was found in; a 404 is never cached. Redis unreachable: the
page is rendered as if there were no cache. Browsers still get ``no-store``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import zlib
from types import SimpleNamespace

from flask import Blueprint, Response, abort, current_app, render_template
from sqlalchemy import or_, select

from jiuzhu.clock import china_today, cn_date
from jiuzhu.disclosure.services import publicity_list
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgLevel, OrgUnit, Tenant

bp = Blueprint("public", __name__, url_prefix="/public")

#: places (the township itself, then its villages by name) on one page of a township's publicity:
#: a page reads only its places' households, so a township of thousands stays as quick as a village
PLACES_PER_PAGE = 5


def _county(code: str):
    """The active county with this code and its plugin, or 404."""
    with use_scope(Scope.platform()):
        tenant = db.session.scalar(select(Tenant).where(Tenant.code == code, Tenant.active.is_(True)))
    plugins = current_app.extensions["jiuzhu.plugins"]
    if tenant is None or tenant.plugin_key not in plugins:
        abort(404)
    return tenant, plugins.get(tenant.plugin_key)


def _place_lists(tenant: Tenant, plugin, unit_id: int, page: int | None = None):
    """The unit (a township or a village of this county) and its lists today; for a township with
    ``page``, only the lists of that page's places (see :data:`PLACES_PER_PAGE`). Also the unit's
    parent and where residents object (:func:`objection_contacts`)."""
    today = china_today()
    pages = 1
    with use_scope(Scope(tenant.id)):
        # the unit, its parent and the county's root (for the contacts) in one statement
        parent_id = select(OrgUnit.parent_id).where(OrgUnit.id == unit_id).scalar_subquery()
        found = {u.id: u for u in db.session.scalars(select(OrgUnit).where(or_(
            OrgUnit.id == unit_id, OrgUnit.id == parent_id, OrgUnit.parent_id.is_(None))))}
        unit = found.get(unit_id)
        if unit is None or unit.level not in (OrgLevel.township, OrgLevel.village):
            abort(404)
        villages = (db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.name)).all()
                    if unit.level == OrgLevel.township else [])
        if unit.level == OrgLevel.township and page is not None:  # a page of the township's places
            places = [unit.id] + [v.id for v in villages]
            pages = max(1, -(-len(places) // PLACES_PER_PAGE))
            if not 1 <= page <= pages:
                abort(404)
            lists = publicity_list(db.session, today, plugin=plugin, unit_ids=set(
                places[(page - 1) * PLACES_PER_PAGE:page * PLACES_PER_PAGE]))
        elif unit.level == OrgLevel.township:  # the township and its villages (the whole sheet)
            lists = publicity_list(db.session, today, plugin=plugin, township_id=unit.id)
        else:  # reads only the households living or registered in the village
            lists = publicity_list(db.session, today, plugin=plugin, unit_ids={unit.id})
        name = unit.name
        parent = found.get(unit.parent_id) if unit.level == OrgLevel.village else None
        township = unit if unit.level == OrgLevel.township else parent
        root = next((u for u in found.values() if u.parent_id is None), None)
        contacts = objection_contacts(tenant, township, root)
        db.session.expunge_all()
    return SimpleNamespace(unit=unit, name=name, parent=parent, villages=villages, lists=lists, today=today,
                           pages=pages, contacts=contacts)


def objection_contacts(tenant: Tenant, township: OrgUnit | None, county: OrgUnit | None) -> str:
    """Where a resident objects, with the phones the county has set (组织机构 · 联系电话): the
    township's government and the county's civil-affairs bureau."""
    offices = [(township.government, township.contact_phone) if township is not None else None,
               (f"{tenant.name}民政局", county.contact_phone if county is not None else None)]
    said = [f"{name}（电话：{phone}）" if phone else name for name, phone in filter(None, offices)]
    return f"如有异议，请在公示期内向{'或'.join(said)}反映，可署名、来电或来访。"


def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # the list changes as cases move; never a stale copy
    response.headers["X-Robots-Tag"] = "noindex, nofollow"  # posted for the neighbours, not for search engines
    return response


#: how long a rendered page is kept: bounds how stale a page can be after a write that did not pass
#: through the application (psql, a migration); the application's own writes replace it at once
PAGE_TTL_SECONDS = 600
#: stands in the stored page for the request's CSP nonce (NUL never occurs in a rendered page)
_NONCE = "\x00nonce\x00"


@functools.lru_cache(maxsize=64)
def _rule_digest(rule) -> str:
    """A digest of a plugin's disclosure rule: a deployment that changes the rule changes the key."""
    return hashlib.sha256(repr(rule).encode()).hexdigest()[:12]


def page_key(tenant: Tenant, plugin, what: str, today) -> str:
    """Where a rendered page is kept: the instance, the county (its id and when it was created: a
    database emptied or restored behind the application's back, which moves no generation, makes
    its counties anew — so no page of an earlier county with the same id is served; its plugin and
    that plugin's rule), the unit and page, the day and the language. One key per page (the
    generations are kept in its value), so that the pages of a county that writes all day take the
    room of one copy each."""
    from flask_babel import get_locale

    from jiuzhu.instance import identity

    created = tenant.created_at.strftime("%Y%m%d%H%M%S%f") if tenant.created_at else "-"
    return identity().key("public-page", tenant.id, created, tenant.plugin_key, _rule_digest(plugin.disclosure_rule),
                          what, today.isoformat(), get_locale())


def _kept(tenant: Tenant, plugin, what: str) -> tuple[str, bytes, bytes | None]:
    """The key of ``what``, the current generations (read before any list: see ``generation``) and
    what is kept under the key if it was kept under these very generations — in one round trip.
    Raises what the Redis client raises."""
    from jiuzhu.disclosure.generation import generations

    key = page_key(tenant, plugin, what, china_today())
    generation, stored = generations(current_app._get_current_object()).read(tenant.id, key)
    if stored is not None:
        kept_under, _, value = stored.partition(b"\n")
        if kept_under == generation:
            return key, generation, value
    return key, generation, None


def _keep(key: str, generation: bytes, value: bytes) -> None:
    """Keep ``value`` under ``key`` with the generations it was made under (errors swallowed)."""
    from redis.exceptions import RedisError

    from jiuzhu.instance import shared_redis

    with contextlib.suppress(RedisError, OSError, ValueError):
        shared_redis().set(key, generation + b"\n" + value, ex=PAGE_TTL_SECONDS)


def _cached_page(tenant: Tenant, plugin, what: str, render) -> Response:
    """The page from Redis, or ``render()``'d and kept there. ``render()`` returns the HTML and
    whether to keep it (or aborts: a 404 is never kept)."""
    from redis.exceptions import RedisError

    from jiuzhu.security.headers import csp_nonce

    try:
        key, generation, stored = _kept(tenant, plugin, what)
    except (RedisError, OSError, ValueError):  # ValueError: a malformed Redis URL
        return _headers(Response(render()[0]))
    if stored is not None:
        with contextlib.suppress(zlib.error, UnicodeDecodeError):  # unreadable: rendered and kept again
            return _headers(Response(zlib.decompress(stored).decode().replace(_NONCE, csp_nonce())))
    html, keep = render()  # a 404 aborts here: nothing is kept
    if keep:
        _keep(key, generation, zlib.compress(html.replace(csp_nonce(), _NONCE).encode(), 1))
    return _headers(Response(html))


@bp.route("/<code>/")
def county(code: str):
    tenant, plugin = _county(code)

    def render() -> tuple[str, bool]:
        with use_scope(Scope(tenant.id)):
            units = db.session.scalars(select(OrgUnit).where(OrgUnit.level.in_([OrgLevel.township, OrgLevel.village]))
                                       .order_by(OrgUnit.name)).all()  # one query, not one per township
            tree = [(t, [v for v in units if v.parent_id == t.id]) for t in units if t.level == OrgLevel.township]
            return render_template("public/county.html", tenant=tenant, plugin=plugin, tree=tree,
                                   today=china_today()), True

    return _cached_page(tenant, plugin, "county", render)


@bp.route("/<code>/<int:unit_id>/")
def place(code: str, unit_id: int):
    from flask import request

    tenant, plugin = _county(code)
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        abort(404)

    def render() -> tuple[str, bool]:
        at = _place_lists(tenant, plugin, unit_id, page=page)
        html = render_template(
            "public/place.html", tenant=tenant, plugin=plugin, unit=at.unit, name=at.name, parent=at.parent,
            villages=at.villages, lists=at.lists, today=at.today, rule=plugin.disclosure_rule, page=page,
            pages=at.pages, contacts=at.contacts)
        # a village has one page whatever ``page`` says: kept only as page 1 (no copy per number asked for)
        return html, page == 1 or at.unit.level == OrgLevel.township

    return _cached_page(tenant, plugin, f"unit-{unit_id}-page-{page}", render)


#: how long a rendered sheet is kept (a new day or a changed list is another sheet anyway)
SHEET_TTL_SECONDS = 2 * 86400


def _sheet_place(tenant: Tenant, name: str, parent) -> str:
    return f"{tenant.name}{parent.name if parent else ''}{name}"


def _sheet_version(tenant: Tenant, at) -> tuple[str, str]:
    """The sheet's place, and what names this version (the title with the day and the objection
    contacts: a phone changed is another sheet)."""
    place = _sheet_place(tenant, at.name, at.parent)
    return place, f"{place}社会救助公示（{cn_date(at.today)}）{at.contacts}"


def sheet_key(tenant: Tenant, unit_id: int, title: str, lists: dict) -> str:
    """What the sheet shows, digested: the same key exactly while the list (and its title, with the
    day) stays the same, another as soon as a row, a place or the day changes."""
    import hashlib
    import json

    from jiuzhu.instance import identity

    content = [tenant.id, tenant.plugin_key, unit_id, title,
               [[place.name, place.unit_id, place.external, [list(row.as_public().items()) for row in rows]]
                for place, rows in lists.items()]]
    digest = hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()
    return identity().key("sheet", digest)


def render_sheet(tenant_id: int, unit_id: int, key: str) -> int:
    """The RQ job: render the sheet of ``unit_id`` as it is now and keep it under its key (the key
    of the list it was asked for; a list changed meanwhile is stored under its own key)."""
    from jiuzhu.documents import publicity_sheet_pdf
    from jiuzhu.instance import job_app, redis_connection

    app = job_app()
    with app.app_context():
        try:
            with use_scope(Scope.platform()):
                tenant = db.session.get(Tenant, tenant_id)
            plugin = app.extensions["jiuzhu.plugins"].get(tenant.plugin_key)
            at = _place_lists(tenant, plugin, unit_id)
            place, version = _sheet_version(tenant, at)
            data = publicity_sheet_pdf(tenant, plugin, at.lists, at.today, place, at.contacts)
            redis_connection(app).set(sheet_key(tenant, unit_id, version, at.lists), data, ex=SHEET_TTL_SECONDS)
            return len(data)
        finally:
            db.session.remove()


@bp.route("/<code>/<int:unit_id>/sheet.pdf")
def sheet(code: str, unit_id: int):
    """The sheet as PDF: rendered once by a worker for each version of the list and kept until the
    list changes (a PDF of a hundred rows takes over a second — not a web request's time). Until it
    is ready the page says so and refreshes; with Redis unreachable it is rendered here.

    Which version of the list a unit has is remembered, like a page, under the publicity generation
    (:func:`page_key`): while no write of the county (or of the platform) came in, a kept sheet is
    served without computing the list again."""
    from redis.exceptions import RedisError

    from jiuzhu.documents import publicity_sheet_pdf
    from jiuzhu.instance import enqueue, shared_redis

    tenant, plugin = _county(code)
    version_key = None
    try:  # the version this unit's list had under the current generations, if known
        version_key, generation, known = _kept(tenant, plugin, f"sheet-{unit_id}")
        data = shared_redis().get(known) if known is not None else None
        if data is not None:
            return _headers(Response(data, mimetype="application/pdf",
                                     headers={"Content-Disposition": f"inline; filename=publicity-{unit_id}.pdf"}))
    except (RedisError, OSError, ValueError):  # ValueError: a malformed Redis URL
        version_key = None
    at = _place_lists(tenant, plugin, unit_id)
    place, version = _sheet_version(tenant, at)
    key = sheet_key(tenant, unit_id, version, at.lists)
    if version_key is not None:
        _keep(version_key, generation, key.encode())
    try:
        conn = shared_redis()  # the process's client, not a new one
        data = conn.get(key)
        if data is None:
            job_id = "sheet-" + key.rsplit(":", 1)[1][:40]
            from rq.exceptions import NoSuchJobError
            from rq.job import Job, JobStatus

            try:
                status = Job.fetch(job_id, connection=conn).get_status()
            except NoSuchJobError:
                status = None
            if status not in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
                enqueue(None, render_sheet, tenant.id, unit_id, key, tenant_id=tenant.id, job_id=job_id,
                        job_timeout=600, result_ttl=600, failure_ttl=86400,
                        description=f"publicity sheet of unit {unit_id}")
            html = render_template("public/sheet_pending.html", tenant=tenant, name=at.name, parent=at.parent,
                                   unit=at.unit, today=at.today)
            return _headers(Response(html, status=202, headers={"Retry-After": "3"}))
    except (RedisError, OSError, ValueError):
        data = publicity_sheet_pdf(tenant, plugin, at.lists, at.today, place, at.contacts)
    return _headers(Response(data, mimetype="application/pdf",
                             headers={"Content-Disposition": f"inline; filename=publicity-{unit_id}.pdf"}))
