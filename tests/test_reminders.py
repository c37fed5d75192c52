"""Reminders: planned for every deadline, cancelled when work is done, sent to the right people,
escalated to the county when overdue, over the inbox, e-mail and an SMS gateway's webhook."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from jiuzhu.auth.models import User
from jiuzhu.extensions import db
from jiuzhu.reminders.channels import deliver_pending
from jiuzhu.reminders.dispatch import dispatch_due, unread_count
from jiuzhu.reminders.jobs import send_tenant_reminders
from jiuzhu.reminders.models import (
    ChannelKind,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationChannel,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Subject,
    SupervisionItem,
)
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import Tenant
from jiuzhu.workflow import engine
from tests.factories import acting
from tests.test_workflow_baseline import do, new_case, run_to_publicity

D = dt.date


@pytest.fixture
def county(world):
    return world.county("rm", plugin="baseline", townships=2, villages=1)


def reminders(app, case_id, status=None):
    with acting(app, "rm-county"):
        q = select(Reminder).where(Reminder.case_id == case_id)
        if status:
            q = q.where(Reminder.status == status)
        return sorted((r.subject.value, r.kind.value, r.offset, r.due_on, r.send_on, r.status.value)
                      for r in db.session.scalars(q))


def test_case_deadline_gets_before_due_and_overdue_reminders(app, county):
    case_id = new_case(app, username="rm-t1-staff")
    do(app, "rm-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    # due 2026-11-17: 3 and 1 working days before, on the day, and the next working day (escalated)
    assert reminders(app, case_id, ReminderStatus.pending) == [
        ("case", "before", 1, D(2026, 11, 17), D(2026, 11, 16), "pending"),
        ("case", "before", 3, D(2026, 11, 17), D(2026, 11, 12), "pending"),
        ("case", "due", 0, D(2026, 11, 17), D(2026, 11, 17), "pending"),
        ("case", "overdue", 1, D(2026, 11, 17), D(2026, 11, 18), "pending"),
    ]


def test_publicity_and_step_deadlines_are_reminded_and_cancelled_when_closed(app, county):
    case_id = new_case(app, username="rm-t1-staff")
    run_to_publicity(app, case_id, prefix="rm")
    pending = reminders(app, case_id, ReminderStatus.pending)
    # publicity runs 2026-10-13 → 2026-10-20 (a Tuesday): step reminders and its end
    assert ("publicity", "due", 0, D(2026, 10, 20), D(2026, 10, 20), "pending") in pending
    assert ("step", "before", 3, D(2026, 10, 20), D(2026, 10, 15), "pending") in pending
    do(app, "rm-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 20))
    pending = reminders(app, case_id, ReminderStatus.pending)
    assert not [r for r in pending if r[0] in ("publicity", "step") and r[3] == D(2026, 10, 20)]
    do(app, "rm-county", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "900"})
    assert reminders(app, case_id, ReminderStatus.pending) == []  # decided: nothing left to remind


def test_extension_replaces_the_case_reminders(app, county):
    case_id = new_case(app, username="rm-t1-staff")
    do(app, "rm-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    with acting(app, "rm-t1-staff") as user:
        engine.extend(db.session, user, case_id, "等待外省核对结果", on=D(2026, 11, 2))
    pending = reminders(app, case_id, ReminderStatus.pending)
    assert {r[3] for r in pending} == {D(2026, 12, 8)}
    cancelled = reminders(app, case_id, ReminderStatus.cancelled)
    assert {r[3] for r in cancelled} == {D(2026, 11, 17)} and len(cancelled) == 4


def _send(app, county, today):
    with app.app_context(), use_scope(Scope(county["id"])):
        sent = dispatch_due(db.session, today)
        db.session.remove()
    return sent


def inbox(app, county):
    with app.app_context(), use_scope(Scope(county["id"])):
        rows = db.session.execute(select(User.username, Notification.title).join(User, User.id == Notification.user_id)
                                  .order_by(User.username, Notification.id)).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def test_the_right_people_receive_each_kind_and_overdue_escalates_to_the_county(app, county):
    case_id = new_case(app, username="rm-t1-staff")
    do(app, "rm-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    assert _send(app, county, D(2026, 11, 12)) == 1  # "3 working days left"
    got = inbox(app, county)
    assert {u for u, _ in got} == {"rm-t1-staff", "rm-t1-leader"}  # not the other township, not the village
    assert all(t.startswith("【即将到期】") for _, t in got)
    assert _send(app, county, D(2026, 11, 17)) == 2  # the 1-day and the due-day reminder
    assert _send(app, county, D(2026, 11, 18)) == 1  # overdue
    overdue = [(u, t) for u, t in inbox(app, county) if t.startswith("【已超期】")]
    assert {u for u, _ in overdue} == {"rm-t1-staff", "rm-t1-leader", "rm-county"}
    with app.app_context(), use_scope(Scope(county["id"])):
        items = db.session.scalars(select(SupervisionItem)).all()
        assert [(i.subject, i.due_on, i.flagged_on, i.resolved_on) for i in items] == [
            (Subject.case, D(2026, 11, 17), D(2026, 11, 18), None)]
        # the overdue reminder repeats every 2 working days until the work is done
        nxt = db.session.scalars(select(Reminder).where(Reminder.kind == ReminderKind.overdue,
                                                        Reminder.status == ReminderStatus.pending)).one()
        assert (nxt.offset, nxt.send_on) == (2, D(2026, 11, 20))
        db.session.remove()
    assert _send(app, county, D(2026, 11, 18)) == 0  # nothing is sent twice
    with acting(app, "rm-t1-staff") as user:
        engine.withdraw(db.session, user, case_id, "申请人撤回", on=D(2026, 11, 19))
    assert _send(app, county, D(2026, 11, 20)) == 0
    with app.app_context(), use_scope(Scope(county["id"])):
        assert db.session.scalars(select(SupervisionItem.resolved_on)).all() == [D(2026, 11, 19)]
        db.session.remove()


def test_the_inbox_words_are_the_reminder_s_each_kind(app, county):
    """On PostgreSQL the sweep writes the inbox's title and text in SQL; they are _message's words."""
    from jiuzhu.reminders.dispatch import _message

    case_id = new_case(app, username="rm-t1-staff")
    do(app, "rm-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    for day in (D(2026, 11, 12), D(2026, 11, 17), D(2026, 11, 18)):  # before (3), before (1) and due, overdue
        _send(app, county, day)
    with app.app_context(), use_scope(Scope(county["id"])):
        got = db.session.execute(select(Reminder, Notification.title, Notification.body)
                                 .join(Notification, Notification.reminder_id == Reminder.id)).all()
        assert {r.kind for r, _, _ in got} == set(ReminderKind)
        for r, title, body in got:
            assert (title, body) == _message(r, f"{r.due_on:%Y年%m月%d日}")
            assert r.status == ReminderStatus.sent and r.sent_at is not None and r.recipients >= 2
        db.session.remove()


def test_unread_count_and_tenant_isolation_of_the_inbox(app, world, county):
    world.county("other", plugin="baseline", townships=1, villages=1)
    case_id = new_case(app, username="rm-t1-staff")
    do(app, "rm-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    _send(app, county, D(2026, 11, 17))
    with acting(app, "rm-t1-staff") as user:
        assert unread_count(db.session, user.id) == 3
    with acting(app, "other-t1-staff"):
        assert db.session.scalars(select(Notification)).all() == []
        assert db.session.scalars(select(Reminder)).all() == []


def test_nothing_is_sent_on_a_non_working_day_unless_the_county_asks(app, county):
    case_id = new_case(app, username="rm-t1-staff")
    do(app, "rm-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    with app.app_context():
        assert send_tenant_reminders(county["id"], today="2026-11-14") == {"skipped": "non-workday"}  # Saturday
        with use_scope(Scope(county["id"])):
            tenant = db.session.get(Tenant, county["id"])
            tenant.plugin_settings = {**tenant.plugin_settings, "remind_on_non_workdays": True}
            db.session.commit()
        assert send_tenant_reminders(county["id"], today="2026-11-14")["sent"] == 1


class Gateway(BaseHTTPRequestHandler):
    received: list = []
    fail = False

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).fail:
            self.send_response(500)
            self.end_headers()
            return
        type(self).received.append((self.headers["Idempotency-Key"], json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    Gateway.received, Gateway.fail = [], False
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms", Gateway
    server.shutdown()


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Inbox(Message):
        def __init__(self):
            super().__init__()
            self.messages = []

        def handle_message(self, message):
            self.messages.append(message)

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield "127.0.0.1", port, handler
    controller.stop()


def _channels(app, county, **configs):
    with app.app_context(), use_scope(Scope(county["id"])):
        for kind, config in configs.items():
            db.session.add(NotificationChannel(kind=ChannelKind(kind), enabled=True, config=config))
        for user in db.session.scalars(select(User).where(User.username.in_(["rm-t1-staff", "rm-t1-leader"]))):
            user.email = f"{user.username}@example.org"
            user.phone = "1390000" + str(user.id).zfill(4)
        db.session.commit()
        db.session.remove()


def test_email_and_webhook_deliveries(app, county, gateway, smtp_server):
    url, handler = gateway
    host, port, mailbox = smtp_server
    _channels(app, county, email={"host": host, "port": port, "sender": "jiuzhu@example.org"},
              webhook={"url": url, "secret": "s3cret"})
    case_id = new_case(app, username="rm-t1-staff")
    do(app, "rm-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    _send(app, county, D(2026, 11, 12))
    with app.app_context(), use_scope(Scope(county["id"])):
        assert deliver_pending(db.session) == (4, 0)
        db.session.remove()
    assert sorted(m["To"] for m in mailbox.messages) == ["rm-t1-leader@example.org", "rm-t1-staff@example.org"]
    from email.header import decode_header, make_header

    assert "即将到期" in str(make_header(decode_header(mailbox.messages[0]["Subject"])))
    assert len(handler.received) == 2 and all(k.startswith("delivery-") for k, _ in handler.received)
    assert "还有 3 个工作日" in handler.received[0][1]["text"]


def test_failing_channel_is_retried_with_back_off_and_flagged(app, county, gateway):
    url, handler = gateway
    handler.fail = True
    _channels(app, county, webhook={"url": url})
    case_id = new_case(app, username="rm-t1-staff")
    do(app, "rm-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    _send(app, county, D(2026, 11, 17))  # 3 reminders (3 days, 1 day, due day) × 2 people
    with app.app_context(), use_scope(Scope(county["id"])):
        now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        assert deliver_pending(db.session, now=now) == (0, 6)
        d = db.session.scalars(select(Delivery)).first()
        assert d.attempts == 1 and d.next_attempt_at == now + dt.timedelta(minutes=1)
        assert deliver_pending(db.session, now=now) == (0, 0)  # not before its back-off
        channel = db.session.scalars(select(NotificationChannel)).one()
        assert channel.consecutive_failures == 6 and channel.failing  # shown to the county admin
        later = now
        for step in Delivery.BACKOFF:
            later = later + step
            deliver_pending(db.session, now=later)
        assert {x.status for x in db.session.scalars(select(Delivery))} == {DeliveryStatus.dead}
        channel = db.session.scalars(select(NotificationChannel)).one()
        assert channel.failing and channel.failing_since is not None and "HTTP 500" in channel.last_error
        db.session.remove()
