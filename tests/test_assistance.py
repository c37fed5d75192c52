"""Assistance records (协助记录): the village records what it did for an applicant's case — a home
visit, help with the investigation, a delivered notice — seen by the township, printed in the case
file; never a decision; refused with field messages when incomplete; other villages reach nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from jiuzhu.cases.models import AssistanceRecord
from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.workflow import engine
from tests.conftest import csrf_token
from tests.factories import acting, household_of_four
from tests.pdfcheck import pdf_text


@pytest.fixture
def county(world):
    return world.county("asv", plugin="baseline", townships=2, villages=2)


def new_case(app) -> int:
    with acting(app, "asv-t1-village") as user:
        household = household_of_four(db.session, user, seq=1)
        return engine.open_case(db.session, user, household=household, categories=["dibao"],
                                channel="village_proxy", applied_on=china_today(),
                                via_platform=["id_and_register"]).id


def records(app, tenant_id) -> int:
    with app.app_context(), use_scope(Scope(tenant_id)):
        n = db.session.scalar(select(func.count()).select_from(AssistanceRecord))
        db.session.remove()
        return n


def post(client, case_id, **form):
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    return client.post(f"/admin/casework/{case_id}/assistance", data={"csrf_token": token, **form},
                       follow_redirects=True)


def test_the_village_records_its_help_and_the_township_sees_it(app, county, client_for):
    case_id = new_case(app)
    village = client_for("asv-t1-village")
    html = post(village, case_id, kind="visit", done_on="", content="").get_data(as_text=True)
    assert "协助日期：日期格式应为 YYYY-MM-DD。" in html and "协助情况：请填写协助情况。" in html
    html = post(village, case_id, kind="decide", done_on=china_today().isoformat(), content="x").get_data(as_text=True)
    assert "协助类别：协助类别须为：入户走访、协助入户调查、送达文书、情况报告、其他协助。" in html
    assert records(app, county["id"]) == 0
    html = post(village, case_id, kind="visit", done_on=china_today().isoformat(),
                content="与村民小组长一同入户，户主卧床，儿子重度残疾。").get_data(as_text=True)
    assert "已登记协助记录。" in html and "入户走访" in html and "户主卧床" in html
    assert village.get(f"/admin/casework/{case_id}").get_data(as_text=True).count('name="outcome"') == 0
    township = client_for("asv-t1-staff").get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert "户主卧床" in township and "asv-t1-village" in township
    pdf = client_for("asv-t1-staff").get(f"/admin/casework/{case_id}/file.pdf").get_data()
    assert "户主卧床" in re.sub(r"\s+", "", pdf_text(pdf))


def test_other_villages_and_the_county_admin_record_nothing(app, county, client_for):
    case_id = new_case(app)
    other = post(client_for("asv-t2-village"), case_id, kind="visit", done_on=china_today().isoformat(),
                 content="越权")
    assert other.status_code == 404
    admin = post(client_for("asv-admin"), case_id, kind="visit", done_on=china_today().isoformat(), content="管理员")
    assert admin.status_code == 403
    assert records(app, county["id"]) == 0
