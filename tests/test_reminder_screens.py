"""The inbox with its unread count, the channels with their health, the supervision list, the queues."""

from __future__ import annotations

import datetime as dt

import pytest

from jiuzhu.extensions import db
from jiuzhu.reminders.dispatch import dispatch_due
from jiuzhu.reminders.models import ChannelKind, NotificationChannel
from jiuzhu.tenancy.context import Scope, use_scope
from tests.conftest import csrf_token
from tests.test_workflow_baseline import do, new_case

D = dt.date


@pytest.fixture
def county(world):
    return world.county("sc", plugin="baseline", townships=2, villages=1)


def send(app, county, day):
    with app.app_context(), use_scope(Scope(county["id"])):
        dispatch_due(db.session, day)
        db.session.remove()


def test_inbox_shows_own_messages_with_an_unread_count_and_marks_them_read(app, county, client_for):
    case_id = new_case(app, username="sc-t1-staff")
    do(app, "sc-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    send(app, county, D(2026, 11, 18))  # before ×2, due and overdue: four messages
    staff = client_for("sc-t1-staff")
    home = staff.get("/admin/").get_data(as_text=True)
    assert 'data-testid="unread">4<' in home
    inbox = staff.get("/admin/inbox/").get_data(as_text=True)
    assert "【已超期】" in inbox and "【即将到期】" in inbox and inbox.count("未读") >= 4
    note_id = int(inbox.split("/admin/inbox/details/?id=")[1].split("&")[0])
    staff.get(f"/admin/inbox/details/?id={note_id}")
    assert 'data-testid="unread">3<' in staff.get("/admin/").get_data(as_text=True)
    # another user of the same county sees nothing of it
    other = client_for("sc-t2-staff")
    assert "【已超期】" not in other.get("/admin/inbox/").get_data(as_text=True)
    assert other.get(f"/admin/inbox/details/?id={note_id}").status_code == 404
    import re

    page = staff.get("/admin/inbox/").get_data(as_text=True)
    ids = sorted(set(re.findall(r"/admin/inbox/details/\?id=(\d+)", page)))
    assert len(ids) == 4
    staff.post("/admin/inbox/action/", data={"action": "mark_read", "rowid": ids, "csrf_token": csrf_token(page)})
    assert 'data-testid="unread"' not in staff.get("/admin/").get_data(as_text=True)


def test_overdue_work_is_on_the_county_supervision_list(app, county, client_for):
    case_id = new_case(app, username="sc-t1-staff")
    do(app, "sc-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    send(app, county, D(2026, 11, 18))
    html = client_for("sc-county").get("/admin/supervision/").get_data(as_text=True)
    assert "办理时限" in html and "sc第1镇" in html and "未办结" in html
    assert "办理时限" not in client_for("sc-t2-leader").get("/admin/supervision/").get_data(as_text=True)
    assert client_for("sc-t1-village").get("/admin/supervision/").status_code == 403


def test_county_admin_configures_a_channel_and_sees_it_failing(app, county, client_for):
    admin = client_for("sc-admin")
    page = admin.get("/admin/channel/new/").get_data(as_text=True)
    resp = admin.post("/admin/channel/new/", data={"csrf_token": csrf_token(page), "kind": "webhook",
                                                   "enabled": "y", "url": "ftp://wrong"}, follow_redirects=True)
    assert "短信网关地址须以 http:// 或 https:// 开头" in resp.get_data(as_text=True)
    resp = admin.post("/admin/channel/new/", data={"csrf_token": csrf_token(page), "kind": "webhook",
                                                   "enabled": "y", "url": "http://127.0.0.1:9/sms"},
                      follow_redirects=True)
    assert "正常" in admin.get("/admin/channel/").get_data(as_text=True)
    with app.app_context(), use_scope(Scope(county["id"])):
        channel = db.session.query(NotificationChannel).one()
        assert channel.kind == ChannelKind.webhook and channel.config["url"] == "http://127.0.0.1:9/sms"
        channel.consecutive_failures, channel.last_error = 7, "无法连接短信网关：拒绝连接"
        db.session.commit()
        db.session.remove()
    html = admin.get("/admin/channel/").get_data(as_text=True)
    assert "故障：连续失败 7 次" in html and "无法连接短信网关" in html
    assert client_for("sc-t1-staff").get("/admin/channel/").status_code == 403


def test_queues_are_shown_to_operator_and_county_admin_only(app, world, county, client_for):
    world.operator()
    for username in ("operator", "sc-admin"):
        html = client_for(username).get("/admin/queues/").get_data(as_text=True)
        assert "失败的任务" in html and 'data-testid="queued"' in html
    assert client_for("sc-t1-staff").get("/admin/queues/").status_code == 403


def test_queues_page_says_when_redis_is_down(app, county, client_for):
    admin = client_for("sc-admin")
    own = app.config["JIUZHU_REDIS_URL"]
    app.config["JIUZHU_REDIS_URL"] = "redis://127.0.0.1:9/0"
    try:
        html = admin.get("/admin/queues/").get_data(as_text=True)
    finally:
        app.config["JIUZHU_REDIS_URL"] = own
    assert "无法连接 Redis" in html and "不会丢失" in html


def test_failed_jobs_are_told_in_chinese_with_beijing_time_and_no_traceback(app, world, county, client_for):
    """An admin sees what failed and when, in words and local time; the traceback stays in the log."""
    import re

    from rq import SimpleWorker

    from jiuzhu.instance import identity, queue, redis_connection
    from jiuzhu.reports.rollimport import run_import_job

    with app.app_context():  # stamped for another instance: the worker refuses it, the job fails
        queue(app).enqueue(run_import_job, 1, county["id"],
                           meta={"tenant_id": county["id"], "jiuzhu_instance": "elsewhere", "jiuzhu_database": "x"})
        SimpleWorker([identity(app).queue_name], connection=redis_connection(app)).work(burst=True)
    html = client_for("sc-admin").get("/admin/queues/").get_data(as_text=True)
    assert "导入花名册" in html and "该任务属于另一个实例，已拒绝执行" in html
    assert "Traceback" not in html and "jiuzhu." not in html and "ForeignJobError" not in html
    assert re.search(r"<td>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}</td>", html)
