"""The public publicity pages: no login, exactly what the county's disclosure rule allows — the
rule's fields, names masked, minors and ID numbers never shown, within the display period — per
township and village, printable as a PDF sheet; nothing of another county."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from sqlalchemy import select

from jiuzhu.cases.idcard import make_id_number
from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgUnit
from tests.factories import approved_directly, household_of_four
from tests.pdfcheck import assert_cjk_fonts_embedded, keep, pdf_text

_seq = itertools.count(1)
REGION = "360222"


@pytest.fixture
def county(world):
    info = world.county("pub", plugin="jingdezhen", townships=2, villages=2)
    world.county("opub", plugin="ningxia", townships=1, villages=1)
    return info


def unit_id(app, tenant_id: int, name: str) -> int:
    with app.app_context(), use_scope(Scope(tenant_id)):
        found = db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == name))
        db.session.remove()
        return found


def approved(app, username="pub-t1-staff", days_ago=10) -> int:
    seq = next(_seq)
    return approved_directly(app, username, "pub-county", china_today() - dt.timedelta(days=days_ago),
                             lambda user: household_of_four(db.session, user, seq=seq, region=REGION),
                             amount="1930.00")


def test_the_township_page_shows_exactly_the_rules_fields_without_login(app, county):
    approved(app)
    town = unit_id(app, county["id"], "pub第1镇")
    client = app.test_client()  # nobody logged in
    response = client.get(f"/public/pub/{town}/")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    headers = re.findall(r"<th>(.*?)</th>", html)
    assert headers == ["公示类别", "公示期", "救助类别", "家庭成员姓名", "保障人数", "困难原因", "家庭月保障金额",
                       "所在村（社区）"]
    row = re.findall(r"<td>(.*?)</td>", html)
    assert row == ["保障中", "—", "最低生活保障", "汪*国、李*英、汪*", "4", "因病、因残、缺乏劳动能力", "1930.00 元", "pub第1镇第1村"]
    assert "汪建国" not in html and "汪小雨" not in html and "汪*雨" not in html  # masked; the minor left out
    assert make_id_number(REGION, dt.date(1968, 3, 12), 13) not in html and "13800000000" not in html
    assert "组" not in "".join(row)  # no address
    assert "景民字〔2024〕40号" in html


def test_the_village_page_shows_its_own_households_only(app, county):
    approved(app)
    this = unit_id(app, county["id"], "pub第1镇第1村")
    other = unit_id(app, county["id"], "pub第1镇第2村")
    assert "汪*国" in app.test_client().get(f"/public/pub/{this}/").get_data(as_text=True)
    html = app.test_client().get(f"/public/pub/{other}/").get_data(as_text=True)
    assert "汪*国" not in html and 'data-testid="empty"' in html
    assert "汪*国" not in app.test_client().get(
        f"/public/pub/{unit_id(app, county['id'], 'pub第2镇')}/").get_data(as_text=True)


def test_nothing_of_another_county_and_no_unknown_place(app, county):
    approved(app)
    town = unit_id(app, county["id"], "pub第1镇")
    client = app.test_client()
    assert client.get(f"/public/opub/{town}/").status_code == 404  # a unit of pub under opub's code
    assert client.get("/public/nowhere/").status_code == 404
    assert client.get("/public/pub/999999/").status_code == 404
    root = unit_id(app, county["id"], "pub县")
    assert root is not None
    assert client.get(f"/public/pub/{root}/").status_code == 404  # the county root is not a publicity place
    assert "未找到" in client.get("/public/pub/999999/").get_data(as_text=True)
    index = client.get("/public/pub/").get_data(as_text=True)
    assert "pub第1镇第2村" in index and "opub" not in index


def run_jobs(app) -> None:
    """What a worker of this instance does with the queued jobs (here, in this process)."""
    from rq import SimpleWorker

    from jiuzhu.instance import identity, redis_connection

    with app.app_context():
        SimpleWorker([identity(app).queue_name], connection=redis_connection(app)).work(burst=True)


def sheet_when_ready(app, client, url: str):
    """The sheet as a reader gets it: asked for, rendered by a worker, asked for again."""
    first = client.get(url)
    if first.status_code == 202:
        assert 'data-testid="sheet-pending"' in first.get_data(as_text=True)
        run_jobs(app)
        return client.get(url)
    return first


def test_the_sheet_is_a_pdf_of_the_same_list(app, county):
    approved(app)
    town = unit_id(app, county["id"], "pub第1镇")
    response = sheet_when_ready(app, app.test_client(), f"/public/pub/{town}/sheet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.get_data()
    keep(data, "jingdezhen-publicity-sheet.pdf")
    assert_cjk_fonts_embedded(data)
    text = re.sub(r"\s+", "", pdf_text(data))
    assert "pub第1镇社会救助公示" in text and "汪*国、李*英、汪*" in text and "1930.00元" in text
    assert "汪建国" not in text and "汪*雨" not in text


def test_exits_stay_six_months_then_leave_the_page(app, county):
    case_id = approved(app, days_ago=300)
    with app.app_context(), use_scope(Scope(county["id"])):
        from jiuzhu.cases.categories import CaseStatus
        from jiuzhu.cases.models import Case

        case = db.session.get(Case, case_id)
        case.status, case.closed_on = CaseStatus.closed, china_today() - dt.timedelta(days=200)
        db.session.commit()
        db.session.remove()
    town = unit_id(app, county["id"], "pub第1镇")
    assert "汪*国" not in app.test_client().get(f"/public/pub/{town}/").get_data(as_text=True)
    with app.app_context(), use_scope(Scope(county["id"])):
        case = db.session.get(Case, case_id)
        case.closed_on = china_today() - dt.timedelta(days=30)
        db.session.commit()
        db.session.remove()
    html = app.test_client().get(f"/public/pub/{town}/").get_data(as_text=True)
    assert "已退出" in html and "汪*国" in html


def test_a_proposed_household_shows_its_period_and_where_to_object_with_the_phones(app, world, client_for):
    """What a resident needs in order to object: the household's category and amount, the period's
    first and last day, and the township's and the county's phones (set by the county admin)."""
    from tests.conftest import csrf_token
    from tests.test_workflow_baseline import new_case, run_to_publicity

    info = world.county("base", plugin="baseline", townships=1, villages=1)
    case_id = new_case(app)
    run_to_publicity(app, case_id)
    admin = client_for("base-admin")
    town, village = info["towns"][0], info["villages"][0][0]
    root = info["root"]
    for unit, phone in ((town, "0559-6500001"), (root, "0559-6512345")):
        form = admin.get(f"/admin/orgunit/edit/?id={unit}").get_data(as_text=True)
        name = re.search(r'id="name"[^>]*value="([^"]*)"', form) or re.search(r'value="([^"]*)"[^>]*id="name"', form)
        resp = admin.post(f"/admin/orgunit/edit/?id={unit}", data={
            "csrf_token": csrf_token(form), "name": name.group(1), "contact_phone": phone, "active": "y"})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    bad = admin.get(f"/admin/orgunit/edit/?id={town}").get_data(as_text=True)
    resp = admin.post(f"/admin/orgunit/edit/?id={town}", data={
        "csrf_token": csrf_token(bad), "name": "base第1镇", "contact_phone": "请打电话", "active": "y"})
    assert "电话号码只能包含数字" in resp.get_data(as_text=True)

    html = app.test_client().get(f"/public/base/{village}/").get_data(as_text=True)
    headers = re.findall(r"<th>(.*?)</th>", html)
    row = dict(zip(headers, re.findall(r"<td>(.*?)</td>", html), strict=True))
    assert row["公示类别"] == "公示中（拟保障）" and row["公示期"] == "2026-10-13 至 2026-10-20"
    assert row["救助类别"] == "最低生活保障" and row["家庭月保障金额"] == "1260.00 元"
    objection = re.search(r'data-testid="objection">([^<]+)<', html).group(1)
    assert "base第1镇人民政府（电话：0559-6500001）" in objection
    assert "base县民政局（电话：0559-6512345）" in objection

    sheet = sheet_when_ready(app, app.test_client(), f"/public/base/{village}/sheet.pdf")
    keep(sheet.data, "publicity-sheet-proposed.pdf")
    text = re.sub(r"\s", "", pdf_text(sheet.data))
    assert "2026-10-13至2026-10-20" in text and "0559-6500001" in text and "0559-6512345" in text


def test_a_townships_page_is_paged_by_place_and_each_page_reads_only_its_places(app, world, monkeypatch):
    import jiuzhu.disclosure.public as public

    info = world.county("pgd", plugin="jingdezhen", townships=1, villages=4)
    monkeypatch.setattr(public, "PLACES_PER_PAGE", 3)  # the township and its four villages: two pages

    def in_village(name):
        def make(user):
            village = db.session.scalar(select(OrgUnit).where(OrgUnit.name == name))
            return household_of_four(db.session, user, village, seq=next(_seq), region=REGION)
        return make

    day = china_today() - dt.timedelta(days=10)
    approved_directly(app, "pgd-t1-staff", "pgd-county", day, in_village("pgd第1镇第1村"), amount="1930.00")
    approved_directly(app, "pgd-t1-staff", "pgd-county", day, in_village("pgd第1镇第4村"), amount="1930.00")
    town = unit_id(app, info["id"], "pgd第1镇")
    client = app.test_client()
    first = client.get(f"/public/pgd/{town}/").get_data(as_text=True)
    second = client.get(f"/public/pgd/{town}/?page=2").get_data(as_text=True)
    # page 1: the township, villages 1 and 2; page 2: villages 3 and 4
    assert "<h2>pgd第1镇第1村</h2>" in first and "pgd第1镇第4村</td>" not in first
    assert "<h2>pgd第1镇第4村</h2>" in second and "pgd第1镇第1村</td>" not in second
    assert first.count('data-testid="row"') == second.count('data-testid="row"') == 1
    assert "第 1 页，共 2 页" in first and "?page=2" in first and "第 2 页，共 2 页" in second
    assert client.get(f"/public/pgd/{town}/?page=3").status_code == 404
    assert client.get(f"/public/pgd/{town}/?page=x").status_code == 404
    # the sheet to post on the township's board still lists every household of the township
    sheet = pdf_text(sheet_when_ready(app, client, f"/public/pgd/{town}/sheet.pdf").data)
    assert "pgd第1镇第1村" in sheet and "pgd第1镇第4村" in sheet


def test_the_sheet_is_rendered_once_by_a_worker_and_kept_until_the_list_changes(app, county):
    approved(app)
    village = unit_id(app, county["id"], "pub第1镇第1村")
    url = f"/public/pub/{village}/sheet.pdf"
    client = app.test_client()
    pending = client.get(url)
    assert pending.status_code == 202 and pending.headers["Retry-After"] == "3"
    assert client.get(url).status_code == 202  # asked again before the worker ran: still one job
    with app.app_context():
        from jiuzhu.instance import queue

        assert queue(app).count == 1
    run_jobs(app)
    ready = client.get(url)
    assert ready.status_code == 200 and "汪*国" in pdf_text(ready.data)
    assert client.get(url).data == ready.data  # kept: no new job, the same document
    with app.app_context():
        assert queue(app).count == 0
    approved(app)  # the list changes: a second household in the village
    assert client.get(url).status_code == 202
    run_jobs(app)
    again = client.get(url)
    assert again.status_code == 200 and pdf_text(again.data).count("汪*国") == 2
