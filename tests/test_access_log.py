"""The access log of personal information (PIPL): every look at a household or case, every document
and material downloaded, every list exported — who, when, from where — for the county admin only;
append-only, kept for the retention; and an alert when one account opens unusually many households."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import create_engine, select, text

from jiuzhu.auth.policy import forget_cached, save_policy
from jiuzhu.cases.models import Case, Notice
from jiuzhu.extensions import db
from jiuzhu.privacy.models import AccessKind, PersonalDataAccess
from jiuzhu.reminders.models import Notification
from jiuzhu.tenancy.context import Scope, use_scope
from tests.api_helpers import api_redis, auth, make_token  # noqa: F401
from tests.test_workflow_baseline import do, new_case

pytestmark = pytest.mark.usefixtures("api_redis")


@pytest.fixture
def county(world):
    forget_cached()
    world.county("other", plugin="baseline", townships=1, villages=1)
    yield world.county("base", plugin="baseline", townships=2, villages=1)
    forget_cached()


def log_rows(app, county) -> list[PersonalDataAccess]:
    with app.app_context(), use_scope(Scope(county["id"])):
        rows = db.session.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.id)).all()
        db.session.expunge_all()
        db.session.remove()
    return rows


def household_of(app, county, case_id) -> int:
    with app.app_context(), use_scope(Scope(county["id"])):
        hid = db.session.get(Case, case_id).household_id
        db.session.remove()
    return hid


def test_views_and_downloads_are_logged_and_the_county_admin_sees_them(app, county, client_for):
    case_id = new_case(app)
    do(app, "base-t1-staff", case_id, "acceptance", "accept", dt.date(2026, 9, 30))
    household_id = household_of(app, county, case_id)
    staff = client_for("base-t1-staff")
    assert staff.get(f"/admin/casework/{case_id}").status_code == 200
    assert staff.get(f"/admin/casework/household/{household_id}").status_code == 200
    assert staff.get(f"/admin/casework/{case_id}/file.pdf").status_code == 200
    with app.app_context(), use_scope(Scope(county["id"])):
        notice_id = db.session.scalar(select(Notice.id).where(Notice.case_id == case_id))
        db.session.remove()
    if notice_id:
        assert staff.get(f"/admin/casework/{case_id}/notices/{notice_id}.pdf").status_code == 200
    rows = log_rows(app, county)
    kinds = [r.kind for r in rows]
    assert kinds[:3] == [AccessKind.view_case, AccessKind.view_household, AccessKind.download_case_file]
    assert all(r.user_name.startswith("base-t1-staff") and r.user_role == "township_staff" for r in rows)
    assert all(r.household_id == household_id and r.source == "127.0.0.1" for r in rows)
    admin = client_for("base-admin")
    html = admin.get("/admin/access_log/").get_data(as_text=True)
    assert "查看家庭档案" in html and "下载一户一档" in html and "base-t1-staff" in html
    # the other county's admin sees none of it; a township user cannot open the log at all
    assert "base-t1-staff" not in client_for("other-admin").get("/admin/access_log/").get_data(as_text=True)
    assert client_for("base-t1-staff").get("/admin/access_log/").status_code == 403
    # filtered by kind
    filtered = admin.get("/admin/access_log/?flt0_0=download_case_file").get_data(as_text=True)
    assert "下载一户一档" in filtered and "查看家庭档案" not in filtered


def test_a_refused_look_is_not_logged_as_a_look(app, county, client_for):
    case_id = new_case(app)
    assert client_for("base-t2-staff").get(f"/admin/casework/{case_id}").status_code == 404
    assert log_rows(app, county) == []


def test_exports_and_api_reads_are_logged(app, county, client_for):
    client_for("base-admin").get("/admin/user/export/csv/")
    case_id = new_case(app)
    token = make_token(app, county, name="省政务服务平台", username="base-t1-staff")
    assert app.test_client().get(f"/api/v1/cases/{case_id}", headers=auth(token)).status_code == 200
    rows = log_rows(app, county)
    assert [(r.kind, r.detail) for r in rows] == [(AccessKind.export_list, "用户（CSV）"),
                                                  (AccessKind.view_case, "接口")]
    assert "省政务服务平台" in rows[1].user_name


def test_the_log_holds_no_personal_data_and_cannot_be_changed(app, county, client_for, database_urls):
    case_id = new_case(app)
    client_for("base-t1-staff").get(f"/admin/casework/{case_id}")
    owner = create_engine(database_urls["owner"])
    with owner.connect() as conn:
        dumped = " ".join(str(v) for row in conn.execute(text("SELECT * FROM personal_data_access")) for v in row)
    assert not re.search(r"\d{17}[\dX]", dumped)
    app_engine = create_engine(database_urls["app"])
    from tests.conftest import signed_tenant

    for sql in ("UPDATE personal_data_access SET user_name = 'x'", "DELETE FROM personal_data_access"):
        with app_engine.connect() as conn:
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(county["id"])})
            with pytest.raises(Exception, match="permission denied"):
                conn.execute(text(sql))
            conn.rollback()
    with app_engine.connect() as conn, pytest.raises(Exception, match="at least 183 days"):
        conn.execute(text("SELECT jiuzhu_purge_access_log(30)"))
    app_engine.dispose()
    owner.dispose()


def test_retention_removes_only_rows_past_it(app, county, client_for, owner_engine):
    from jiuzhu.reminders.jobs import purge_access_log

    case_id = new_case(app)
    client_for("base-t1-staff").get(f"/admin/casework/{case_id}")
    with owner_engine.begin() as conn:
        conn.execute(text("INSERT INTO personal_data_access (tenant_id, at, user_name, user_role, kind, subject_type) "
                          "VALUES (:t, now() - interval '1200 days', 'x', 'system', 'view_case', 'case')"),
                     {"t": county["id"]})
    with app.app_context():
        assert purge_access_log() == 1  # 1,095 days by default: only the old row
    assert len(log_rows(app, county)) == 1


def test_one_account_opening_unusually_many_households_alerts_the_county_admin_once(app, county, client_for):
    with app.app_context(), use_scope(Scope(county["id"])):
        save_policy(db.session, county["id"], {"idle_minutes": 15, "absolute_hours": 10, "password_min_length": 10,
                                               "password_history": 5, "password_max_age_days": 90,
                                               "disable_unused_days": 90, "access_alert_per_hour": 10,
                                               "mfa_roles": []})
        db.session.commit()
        db.session.remove()
    households = [household_of(app, county, new_case(app)) for _ in range(12)]
    staff = client_for("base-t1-staff")
    for i, household_id in enumerate(households):
        assert staff.get(f"/admin/casework/household/{household_id}").status_code == 200
        staff.get(f"/admin/casework/household/{households[0]}")  # the same household again counts once
        if i == 9:
            assert alerts(app, county) == []  # ten households: within the limit
    notes = alerts(app, county)
    assert len(notes) == 1 and "一小时内查看了 11 户" in notes[0]
    assert "个人信息访问异常" in client_for("base-admin").get("/admin/inbox/").get_data(as_text=True)


def alerts(app, county) -> list[str]:
    with app.app_context(), use_scope(Scope(county["id"])):
        bodies = db.session.scalars(select(Notification.body).where(Notification.title == "个人信息访问异常提醒")).all()
        db.session.remove()
    return list(bodies)
