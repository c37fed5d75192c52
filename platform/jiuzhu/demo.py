"""``flask --app wsgi demo``: a fresh, seeded database and a running server, for newcomers.

Seeds one county per installed plugin, each with two townships of three villages and a user for
every role, prints the credentials, and serves the app. Meant for the embedded SQLite default; it
refuses to wipe anything but SQLite unless told to.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import click
from flask import current_app
from sqlalchemy.engine import make_url

from jiuzhu.auth.roles import Role
from jiuzhu.auth.services import create_user
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgUnit, Tenant
from jiuzhu.tenancy.services import add_org_unit, county_root, create_tenant


@dataclass(frozen=True)
class DemoCounty:
    plugin: str
    code: str
    name: str
    division_code: str
    townships: tuple[tuple[str, tuple[str, str, str]], ...]
    #: an illustrative local 低保 standard, yuan per person per month
    standard: str = "800"


#: One county per plugin. County division codes are the official GB/T 2260 codes; townships and
#: villages are illustrative and carry no codes.
DEMO_COUNTIES = (
    DemoCounty("shexian", "shexian", "歙县", "341021",
               (("溪头镇", ("溪头村", "汪满田村", "蓝田村")), ("徽城镇", ("城东社区", "向杲村", "渔岸村"))), standard="780"),
    DemoCounty("ningxia", "yongning", "永宁县", "640121",
               (("杨和镇", ("红星村", "纳家户村", "观桥村")), ("望洪镇", ("望洪村", "新华村", "东和村"))), standard="690"),
    DemoCounty("jingdezhen", "fuliang", "浮梁县", "360222",
               (("浮梁镇", ("旧城村", "新平村", "大桥村")), ("鹅湖镇", ("鹅湖村", "桂湖村", "界田村"))), standard="820"),
    DemoCounty("zongyang", "zongyang", "枞阳县", "340722",
               (("枞阳镇", ("河口社区", "城关村", "义津村")), ("汤沟镇", ("汤沟村", "老洲村", "新民村"))), standard="790"),
    DemoCounty("dangtu", "dangtu", "当涂县", "340521",
               (("姑孰镇", ("湖西社区", "桃花村", "龙山村")), ("当涂经济开发区", ("太白村", "青山社区", "大陇村"))), standard="830"),
)


#: the demo's authenticator secret, bound to every account that needs the second factor (county admins,
#: the operator): a newcomer adds it to any TOTP app once, or runs `flask --app wsgi demo-code`
DEMO_TOTP_SECRET = "JIUZHUDEMOJIUZHUDEMOJIUZHUDEMO23"


def _bind_demo_second_factor(user) -> None:
    from jiuzhu.db import utcnow

    user.totp_secret, user.totp_enabled_at, user.recovery_codes = DEMO_TOTP_SECRET, utcnow(), []


def seed_demo(password: str) -> list[tuple[str, str, str, str]]:
    """Create the demo counties and users; returns (county, username, role label, unit) rows. Accounts
    that need the second factor have :data:`DEMO_TOTP_SECRET` bound."""
    registry = current_app.extensions["jiuzhu.plugins"]
    session = db.session
    rows: list[tuple[str, str, str, str]] = []
    with use_scope(Scope.platform()):
        _bind_demo_second_factor(create_user(session, username="operator", full_name="平台运维",
                                             role=Role.platform_operator, password=password))
        session.commit()
    rows.append(("（平台）", "operator", Role.platform_operator.label, "—"))
    for county in DEMO_COUNTIES:
        if county.plugin not in registry:
            continue
        with use_scope(Scope.platform()):
            tenant = create_tenant(session, registry, code=county.code, name=county.name,
                                   plugin_key=county.plugin, division_code=county.division_code)
            session.commit()
            tenant_id, tenant_name = tenant.id, tenant.name
        with use_scope(Scope(tenant_id)):
            root = county_root(session)
            towns: list[tuple[OrgUnit, list[OrgUnit]]] = []
            for town_name, village_names in county.townships:
                town = add_org_unit(session, parent=root, name=town_name)
                towns.append((town, [add_org_unit(session, parent=town, name=v) for v in village_names]))
            people = [
                (f"{county.code}-admin", "县级管理员", Role.county_admin, root),
                (f"{county.code}-county", "县民政局工作人员", Role.county_staff, root),
            ]
            for i, (town, villages) in enumerate(towns, start=1):
                people += [
                    (f"{county.code}-t{i}-staff", f"{town.name}经办人", Role.township_staff, town),
                    (f"{county.code}-t{i}-leader", f"{town.name}负责人", Role.township_leader, town),
                    (f"{county.code}-t{i}-village", f"{villages[0].name}协理员", Role.village_assistant, villages[0]),
                ]
            for username, full_name, role, unit in people:
                created = create_user(session, username=username, full_name=full_name, role=role,
                                      password=password, org_unit=unit)
                if role is Role.county_admin:
                    _bind_demo_second_factor(created)
                rows.append((tenant_name, username, role.label, unit.name))
            session.commit()
            tenant = session.get(Tenant, tenant_id)
            tenant.plugin_settings = {**(tenant.plugin_settings or {}), "dibao_standard": county.standard}
            session.commit()
            seed_cases(session, county, towns)
    return rows


#: the households of the demo, one per state a case can be in (names are illustrative)
DEMO_FAMILIES = (
    ("new", "汪建国", "刚提交、待受理"),
    ("investigating", "李春华", "已受理、入户调查中"),
    ("objection", "张德明", "公示期间有异议、重新调查"),
    ("overdue", "吴秀兰", "公示已超期"),
    ("approved", "方志强", "已确认给予低保"),
    ("denied", "程玉梅", "不予确认"),
    ("exited", "胡文斌", "复核后停发（退出）"),
)


#: the first county's approved head (方志强), also listed in a household of the second county
DUPLICATE_PERSON = "方志强"


def duplicate_number() -> str:
    import datetime as dt

    from jiuzhu.cases.idcard import make_id_number

    index = [f[0] for f in DEMO_FAMILIES].index("approved")
    return make_id_number(DEMO_COUNTIES[0].division_code, dt.date(1962 + index, 3, 12), 21 + 2 * index)


def required_materials(plugin_key: str) -> list[str]:
    from types import SimpleNamespace

    plugin = current_app.extensions["jiuzhu.plugins"].get(plugin_key)
    probe = SimpleNamespace(categories=["dibao"], channel="window", household=None, tenant_id=None)
    return [m.key for m in plugin.materials_for(probe)]


def seed_cases(session, county: DemoCounty, towns) -> None:
    """Households and cases in every state, acted on through the engine at past dates."""
    import datetime as dt

    from sqlalchemy import select as sa_select

    from jiuzhu.audit.context import actor_for, use_actor
    from jiuzhu.auth.models import User
    from jiuzhu.cases.households import Member
    from jiuzhu.cases.idcard import make_id_number
    from jiuzhu.cases.services import MemberInput, SupporterInput, register_household
    from jiuzhu.clock import china_today
    from jiuzhu.demo_cases import advance, answers_for
    from jiuzhu.errors import ServiceError
    from jiuzhu.workflow import engine

    today = china_today()
    region = county.division_code
    staff = {u.username: u for u in session.scalars(sa_select(User))}
    code = county.code
    for index, (state, head, _) in enumerate(DEMO_FAMILIES):
        town_no = 1 + index % 2
        town, villages = towns[town_no - 1]
        township_user = staff[f"{code}-t{town_no}-staff"]
        people = {"township": township_user, "county": staff[f"{code}-county"],
                  "village": staff[f"{code}-t{town_no}-village"]}
        start = today - dt.timedelta(days={"new": 1, "investigating": 6, "objection": 20, "overdue": 45,
                                           "approved": 120, "denied": 90, "exited": 400}[state])
        try:
            with use_actor(actor_for(township_user)):
                household = register_household(
                    session, township_user, village=villages[0], address=f"{villages[0].name}{index + 1}组",
                    phone="13900000000", on=start,
                    members=[MemberInput(head, make_id_number(region, dt.date(1962 + index, 3, 12), 21 + 2 * index),
                                         "head", health="serious", work_ability="partial",
                                         incomes={"basic_pension": "160"}),
                             MemberInput(head[0] + "小雨", make_id_number(region, dt.date(2011, 9, 1), 40 + 2 * index),
                                         "grandchild")],
                    supporters=[SupporterInput(head[0] + "丽", make_id_number(region, dt.date(1990, 5, 5), 60 + 2 * index),
                                               "赡养", monthly_income="2800", monthly_support_paid="100")])
                if state == "new" and county is DEMO_COUNTIES[1]:
                    # 重复享受, to be seen: the first county's 低保 recipient has moved in with this family
                    # and is listed here too — its case page warns, and approval waits for a resolution
                    session.add(Member(household=household, tenant_id=household.tenant_id, name=DUPLICATE_PERSON,
                                       id_number=duplicate_number(), birth_date=dt.date(1966, 3, 12), sex="male",
                                       relation="other", health="chronic", work_ability="partial"))
                    session.flush()
                case = engine.open_case(session, township_user, household=household, categories=["dibao"],
                                        channel="window", applied_on=start, authorization_signed_on=start,
                                        commitment_signed_on=start, consent_classification=True,
                                        provided=required_materials(county.plugin),
                                        via_platform=required_materials(county.plugin))
                who = people.__getitem__
                if state == "new":
                    pass
                elif state == "investigating":
                    advance(session, case, who, start, stop_at="appraisal")
                elif state in ("objection", "overdue"):
                    advance(session, case, who, start + dt.timedelta(days=3), stop_at="publicity")
                    if state == "objection":
                        step = next(s for s in engine.load_view(session, case).open_steps if s.key == "publicity")
                        spec = engine.workflow_for(case).step("publicity")
                        when = max(today - dt.timedelta(days=2), step.runs_until or step.opened_on)
                        engine.act(session, township_user, step.id, "objection", reason="村民反映该户有营运车辆，需重新调查",
                                   data=answers_for(spec.outcome("objection").form or spec.form, case, when,
                                                    {"objection": "村民实名反映该户有营运车辆"}), on=when)
                elif state == "denied":
                    advance(session, case, who, start + dt.timedelta(days=3),
                            route={"review_opinion": "propose_deny", "decision": "deny"})
                else:
                    advance(session, case, who, start + dt.timedelta(days=3))
                    if state == "exited" and case.status.value == "approved":
                        review = engine.open_review(session, township_user, case.id, on=start + dt.timedelta(days=370))
                        advance(session, review, who, start + dt.timedelta(days=372),
                                route={"review_decision": "stop"})
                session.commit()
        except ServiceError as exc:  # a plugin whose steps differ: the demo goes on with the rest
            session.rollback()
            fields_ = "".join(f"（{k}）" for k in exc.field_errors)
            click.echo(f"  （演示数据）{county.name}·{head}：{'；'.join(exc.all_messages())}{fields_}", err=True)


def _start_demo_clock(url: str) -> None:
    """The demo's movable clock: a file beside the database, at 0 days ahead on every rebuild; the
    web, worker and cron processes of the demo read it (jiuzhu.clock)."""
    import os

    from jiuzhu.clock import DEMO_CLOCK_ENV, set_demo_offset_days

    if not os.environ.get(DEMO_CLOCK_ENV):  # scripts/demo sets it before the app starts (the screen needs it)
        os.environ[DEMO_CLOCK_ENV] = str(Path(make_url(url).database).with_name("demo-clock.txt"))
    set_demo_offset_days(0)


def _reset_sqlite(url: str) -> None:
    path = make_url(url).database
    if path and path != ":memory:":
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.unlink(missing_ok=True)


def _reset_anchors() -> None:
    """A new demo database starts new chains: the anchors of the last one would contradict them."""
    import shutil

    from jiuzhu.audit.anchors import anchor_root

    root = anchor_root()
    if root is not None and root.is_dir():
        shutil.rmtree(root)


def _anchor() -> None:
    """Anchor the fresh chains once, so `flask audit verify` has something to compare with."""
    from jiuzhu.audit.anchors import anchor_all, anchor_root

    if anchor_root() is not None:
        anchor_all()


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--password", envvar="JIUZHU_DEMO_PASSWORD", help="所有演示账户的密码（默认随机生成）。")
@click.option("--serve/--no-serve", default=True, help="初始化后是否启动服务。")
def demo_command(host, port, password, serve):
    """重建演示数据库（SQLite），为每个插件建一个县并为每个角色建用户，打印账户，启动服务。"""
    from flask_migrate import upgrade

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        raise click.ClickException("演示命令只重建 SQLite 数据库；请将 JIUZHU_DATABASE_URL 设为 sqlite:///… 。")
    db.session.remove()
    db.engine.dispose()
    _reset_sqlite(url)
    _reset_anchors()
    _start_demo_clock(url)
    upgrade()
    password = password or ("Demo-" + secrets.token_urlsafe(8) + "-7")  # three classes, never common
    rows = seed_demo(password)
    _anchor()
    click.echo("\n演示数据已就绪。账户（密码相同）：\n")
    click.echo(f"  密码：{password}\n")
    grouped = " ".join(DEMO_TOTP_SECRET[i:i + 4] for i in range(0, len(DEMO_TOTP_SECRET), 4))
    click.echo(f"  动态口令：县级管理员和平台运维登录时还须输入六位动态口令。把密钥 {grouped} 加入任一 TOTP 验证器，"
               f"或运行 flask --app wsgi demo-code 查看当前口令。\n")
    for county, username, role, unit in rows:
        click.echo(f"  {county:<8}{username:<22}{role:<16}{unit}")
    if serve:
        import signal

        app = current_app._get_current_object()
        background = start_reminders(app)
        # SIGTERM ends the demo like Ctrl+C does, so the reminder processes stop with it
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(0)))
        click.echo(f"\n请在浏览器打开 http://{host}:{port}/ （按 Ctrl+C 停止）\n")
        from werkzeug.serving import run_simple

        try:
            run_simple(host, port, app, use_reloader=False, threaded=True)
        finally:
            background.stop()


class Background:
    """The demo's reminder machinery: RQ worker and cron processes when Redis answers, else a thread
    that runs the same per-county jobs in this process every minute."""

    def __init__(self):
        self.procs: list = []
        self.stop_event = None

    def stop(self):
        for p in self.procs:
            p.terminate()
        if self.stop_event is not None:
            self.stop_event.set()


def start_reminders(app, interval: int = 60) -> Background:
    import os
    import subprocess
    import sys
    import threading

    from jiuzhu.instance import redis_connection
    from jiuzhu.reminders.jobs import run_inline

    bg = Background()
    try:
        redis_connection(app).ping()
    except Exception:
        bg.stop_event = threading.Event()

        def loop():
            while not bg.stop_event.wait(interval):
                try:
                    run_inline(app)
                except Exception as exc:  # the demo keeps serving whatever happens here
                    app.logger.warning("reminder sweep failed: %s", exc)

        threading.Thread(target=loop, name="jiuzhu-reminders", daemon=True).start()
        click.echo("提醒：未连接 Redis，提醒在本进程内每分钟发送一次。")
        return bg
    for args in (["reminders", "worker"], ["reminders", "cron"]):
        bg.procs.append(subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], env=os.environ.copy()))
    click.echo("提醒：已启动 RQ 工作进程和 rq cron。")
    return bg


@click.command("demo-code")
def demo_code_command():
    """演示用：打印演示账户当前的六位动态口令（仅限 SQLite 演示数据库）。"""
    import pyotp

    if not current_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        raise click.ClickException("此命令只用于演示数据库（SQLite）。")
    click.echo(pyotp.TOTP(DEMO_TOTP_SECRET).now())

