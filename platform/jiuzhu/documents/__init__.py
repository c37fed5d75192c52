"""Printable documents as PDF: a case's notices (the denial notice, the certificate, the one-time
notice of missing materials, the refusal to accept), a case's complete file (一户一档) and a place's
publicity sheet.

HTML templates under ``templates/documents/`` are rendered by WeasyPrint with the CJK fonts the
project installs (Debian's ``fonts-noto-cjk``; ``scripts/test`` and ``scripts/demo`` install it), which
WeasyPrint embeds as subsets: a PDF opened anywhere shows the Chinese, not boxes.

The wording of a notice is its plugin's (``notice_text``); this module only lays it out.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import threading
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select

from jiuzhu.cases.models import Case, Notice
from jiuzhu.clock import china_today, cn_date
from jiuzhu.tenancy.models import OrgLevel, OrgUnit, Tenant
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step

#: the fonts a document asks for, in order; all are CJK, so no glyph falls back to a Latin-only font
FONT_STACK = '"Noto Serif CJK SC", "Noto Sans CJK SC", "Noto Serif CJK", "Noto Sans CJK", serif'


@cache
def _malloc_trim():
    """glibc's ``malloc_trim`` from the C library the process already has loaded, or None (another C
    library); looked up at the first PDF, not at import."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


def give_back_memory() -> None:
    """What a PDF left behind, freed and handed back to the system. Laying out a document with a CJK
    font (its subset made by fontTools) leaves objects in reference cycles that only a full
    collection frees, and the C library keeps the freed heap: a web worker printing case files grew
    from about 100 MB to 950 MB in four minutes (``bench/http_load.py --pdf``). Cheap once the
    worker's own objects are frozen out of the collector's way (``deploy/gunicorn.conf.py``)."""
    gc.collect()
    if (trim := _malloc_trim()) is not None:
        trim(0)


#: PDFs laid out at once in one process: each takes about a hundred megabytes while it is laid out,
#: so a web worker's threads print one after the other and its memory stays bounded
_LAYING_OUT = threading.BoundedSemaphore(1)


def render_pdf(template: str, **context) -> bytes:
    """An HTML template rendered to PDF bytes, one at a time in a process (:data:`_LAYING_OUT`); the
    memory the rendering took is given back (:func:`give_back_memory`)."""
    from weasyprint import HTML

    # straight from the Jinja environment: no request context processors, so a job or the CLI can
    # print a document too
    from jiuzhu.ops.metrics import metrics, timed

    with _LAYING_OUT:
        try:
            with timed(metrics().pdf_seconds, document=template.rsplit("/", 1)[-1].removesuffix(".html")):
                html = current_app.jinja_env.get_template(template).render(font_stack=FONT_STACK, **context)
                return HTML(string=html).write_pdf()
        finally:
            give_back_memory()


@dataclass(frozen=True)
class Organ:
    """Who issues a case's documents: the deciding township's government, or the county bureau."""

    name: str


#: notices the township issues whoever decides: what happens at acceptance
TOWNSHIP_NOTICES = frozenset({"missing_materials", "not_accepted"})


def issuing_organ(session, case: Case, kind: str | None = None) -> Organ:
    """The township's government for what happens at acceptance and where townships confirm; the
    county bureau otherwise."""
    plugin = engine.plugin_for(case)
    tenant = session.get(Tenant, case.tenant_id)
    at_township = plugin.deciding_level == OrgLevel.township or kind in TOWNSHIP_NOTICES
    if at_township and case.township_id:
        # a case shared by two townships: the one that accepted it, or the one that decides
        township_id = engine.case_township(case) if kind in TOWNSHIP_NOTICES else engine.deciding_township(case)
        unit = session.get(OrgUnit, township_id)
        if unit is None and township_id != case.township_id:  # the other township's, printed here
            from jiuzhu.tenancy.services import county_places

            unit = next(iter(county_places(session, OrgLevel.township, township_id)), None)
        if unit is not None:
            return Organ(OrgUnit.government.fget(unit))
    return Organ(f"{tenant.name}民政局")


class AsIssued:
    """The case as its notice saw it: a reprinted one-time notice lists what was missing on the day
    it was issued (stored on the notice), not what is missing now."""

    def __init__(self, case: Case, notice: Notice):
        self._case = case
        stored = (notice.content or {}).get("missing")
        self.missing_materials = ([SimpleNamespace(key=m.get("key"), label=m.get("label")) for m in stored]
                                  if stored is not None else case.missing_materials)

    def __getattr__(self, name):
        return getattr(self._case, name)


APPROVAL_NOTICE_TITLE = "社会救助审核确认通知书"
#: what a sentence may end with: a reason followed by more text loses its own full stop, so the
#: document never prints "。；" or "。。"
END_STOPS = "。．.；;，,、 "


def no_end_stop(text) -> str:
    return str(text or "").rstrip(END_STOPS)


def is_certificate(plugin, case) -> bool:
    """Whether the approval of ``case`` is evidenced by a certificate (证): a category the plugin pays
    monthly (低保, 特困); other approvals (temporary relief, low income) are notified by a notice."""
    monthly = {c.value for c in plugin.monthly_categories}
    return bool(monthly & set(case.categories))


def notice_pdf(session, notice: Notice) -> bytes:
    """One notice, in the plugin's words, as a formal A4 document with its number and issuer."""
    case = notice.case
    plugin = engine.plugin_for(case)
    paragraphs = plugin.notice_text(notice.kind, AsIssued(case, notice))
    household = case.household
    title = notice.content.get("title") or plugin.notice_title(notice.kind)
    if notice.kind == "certificate" and title.endswith("证") and not is_certificate(plugin, case):
        title = APPROVAL_NOTICE_TITLE  # temporary relief, low income: granted by a notice, not a 证
    template = "documents/certificate.html" if notice.kind == "certificate" else "documents/notice.html"
    return render_pdf(template, notice=notice, case=case, household=household,
                      members=household.coresident if household else [],
                      # a 证 is signed by its 发证机关 and kept by the family; a 通知书 is signed and dated
                      certificate=title.endswith("证"),
                      title=title, paragraphs=paragraphs,
                      organ=issuing_organ(session, case, notice.kind), issued=cn_date(notice.issued_on),
                      village=session.get(OrgUnit, case.village_id) if case.village_id else None)


def _shown(value) -> str:
    from jiuzhu.workflow.formrender import CHOICE_LABELS

    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_shown(v) if not isinstance(v, dict) else "，".join(f"{_shown(x)}" for x in v.values())
                        for v in value)
    return CHOICE_LABELS.get(str(value), str(value))


def step_record(workflow, step: Step) -> str:
    """What a step's form recorded, as 「label：value」 pairs with the form's own labels."""
    from jiuzhu.workflow.formrender import FIELD_LABELS, field_views

    if not step.data:
        return ""
    labels = dict(FIELD_LABELS)
    if step.key in workflow.by_key:
        spec = workflow.step(step.key)
        forms = [spec.form] + [o.form for o in spec.outcomes]
        for form in forms:
            labels.update({f.name: f.label for f in field_views(form)})
    def label(key: str) -> str:  # without the on-screen hints (每行一人…)
        text = labels.get(key, key)
        return text.split("（每行")[0]

    return "；".join(f"{label(k)}：{no_end_stop(_shown(v))}" for k, v in step.data.items()
                    if v not in (None, "", [], {}))


def case_file_pdf(session, case: Case) -> bytes:
    """一户一档: the household, its members, supporters, incomes and property, every step of the case
    with its actor, dates, deadline and outcome, the materials and the notices."""
    plugin = engine.plugin_for(case)
    workflow = plugin.workflow_for(case)
    steps = session.scalars(select(Step).where(Step.case_id == case.id).order_by(Step.opened_on, Step.id)).all()
    labels = {s.key: (workflow.step(s.key).label if s.key in workflow.by_key else s.key) for s in steps}
    results, details = {}, {}
    for s in steps:
        details[s.id] = step_record(workflow, s)
        result = s.status.label
        if s.outcome and s.key in workflow.by_key:
            try:
                result += "：" + workflow.step(s.key).outcome(s.outcome).label
            except KeyError:
                result += "：" + s.outcome
        results[s.id] = result
    from jiuzhu.cases.models import AssistanceRecord

    assistance = session.scalars(select(AssistanceRecord).where(AssistanceRecord.case_id == case.id)
                                 .order_by(AssistanceRecord.done_on, AssistanceRecord.id)).all()
    township = session.get(OrgUnit, case.township_id) if case.township_id else None
    village = session.get(OrgUnit, case.village_id) if case.village_id else None
    if township is None and case.township_id:  # printed by the other township of a shared case: names only
        from jiuzhu.tenancy.services import county_places

        township = next(iter(county_places(session, OrgLevel.township, case.township_id)), None)
        village = next(iter(county_places(session, OrgLevel.village, case.village_id)), None) if case.village_id \
            else None
    return render_pdf("documents/case_file.html", case=case, household=case.household, steps=steps, labels=labels, results=results, details=details, assistance=assistance,
                      plugin=plugin, tenant=session.get(Tenant, case.tenant_id), township=township, village=village,
                      organ=issuing_organ(session, case), printed=cn_date(china_today()), today=china_today())


def publicity_sheet_pdf(tenant: Tenant, plugin, lists: dict, on: dt.date, place: str, contacts: str) -> bytes:
    """A place's publicity list as a sheet to post on the board: the rule's fields, each proposed
    household's publicity period, and where to object."""
    return render_pdf("documents/publicity_sheet.html", tenant=tenant, plugin=plugin, lists=lists, on=on,
                      printed=cn_date(on), place=place, title=f"{place}社会救助公示（{cn_date(on)}）",
                      contacts=contacts)


__all__ = ["render_pdf", "notice_pdf", "case_file_pdf", "publicity_sheet_pdf", "issuing_organ", "FONT_STACK"]
