"""What the Anhui plugins' tests share: acting on steps, reading a case back, county settings, and
households richer than the baseline's."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.models import Case, Notice
from jiuzhu.cases.services import MemberInput, SupporterInput, register_household
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import Tenant
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step, StepStatus
from tests.factories import acting, village_of

D = dt.date
#: the source documents, in ``shared/seeds`` beside the project root
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def seed_text(name: str) -> str | None:
    """The seed document, normalised (line breaks and the page markers of the scan removed)."""
    path = SEEDS / name
    if not path.exists():
        return None
    return re.sub(r"\n+\d+、|\s+", "", path.read_text(encoding="utf-8"))


def normalised(sentence: str) -> str:
    return re.sub(r"\s+", "", sentence)


def configure(app, code: str, **raw) -> dict:
    """Save a county's plugin settings the way the settings screen does (validated, JSON-ready)."""
    with app.app_context():
        with use_scope(Scope.platform()):
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.code == code))
        with use_scope(Scope(tenant_id)):
            tenant = db.session.get(Tenant, tenant_id)
            plugin = app.extensions["jiuzhu.plugins"].get(tenant.plugin_key)
            settings = plugin.validate_settings(raw)
            tenant.plugin_settings = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in settings.items()}
            db.session.commit()
        db.session.remove()
    return settings


def open_step(case_id: int, key: str) -> Step:
    return db.session.scalars(select(Step).where(Step.case_id == case_id, Step.key == key,
                                                 Step.status == StepStatus.open)).one()


def do(app, username, case_id, key, outcome, on, data=None, reason=None) -> int:
    with acting(app, username) as user:
        return engine.act(db.session, user, open_step(case_id, key).id, outcome, data=data, reason=reason, on=on).id


def skip(app, username, case_id, key, reason, on) -> None:
    with acting(app, username) as user:
        engine.skip(db.session, user, open_step(case_id, key).id, reason, on=on)


def case_of(app, username, case_id) -> dict:
    with acting(app, username):
        case = db.session.get(Case, case_id)
        steps = db.session.scalars(select(Step).where(Step.case_id == case_id).order_by(Step.id)).all()
        return {"status": case.status, "due_on": case.due_on, "accepted_on": case.accepted_on,
                "decided_on": case.decided_on, "benefit_start": case.benefit_start,
                "monthly_amount": case.monthly_amount, "round": case.round, "extended": case.extended,
                "priority": case.priority, "priority_reason": case.priority_reason,
                "referral": case.referral, "paused_workdays": case.paused_workdays,
                "limit_workdays": case.limit_workdays, "categories": list(case.categories),
                "findings": [(f.position, f.category.value, f.finding.value) for f in case.findings],
                "steps": [(s.key, s.round, s.status.value, s.outcome, s.opened_on, s.due_on) for s in steps],
                "step_data": {s.key: dict(s.data or {}) for s in steps},
                "notices": [(n.kind, n.number) for n in db.session.scalars(
                    select(Notice).where(Notice.case_id == case_id).order_by(Notice.id))]}


def step_due(c: dict, key: str, round_: int = 1) -> tuple[dt.date, dt.date | None]:
    """(opened_on, due_on) of a step of a case read with :func:`case_of`."""
    s = next(s for s in c["steps"] if s[0] == key and s[1] == round_)
    return s[4], s[5]


def id_no(region: str, birth: dt.date, seq: int) -> str:
    return make_id_number(region, birth, seq)


def young_family(session, user, *, region: str, seq: int = 1, wage: str = "2600", village=None):
    """程志强户: a couple in their thirties and a small child, the husband in work, no one old or
    disabled; his mother, living apart, is not a supporter of theirs (no legal supporter)."""
    village = village or village_of(user)
    return register_household(
        session, user, village=village, address=f"{village.name}{seq}组{seq + 20}号", phone="13900000000",
        members=[
            MemberInput("程志强", id_no(region, D(1990, 4, 18), 100 + 2 * seq + 1), "head", working=True,
                        incomes={"wage": wage}),
            MemberInput("方丽", id_no(region, D(1992, 11, 3), 100 + 2 * seq), "spouse", work_ability="partial",
                        health="chronic"),
            MemberInput("程小宇", id_no(region, D(2019, 6, 9), 150 + 2 * seq + 1), "child"),
        ])


def elderly_man(session, user, *, region: str, born: dt.date, seq: int = 1, village=None, pension: str = "165",
                disability_grade: int = 0):
    """吴德福: an old man living alone on the residents' basic pension; his son in the city is his
    legal supporter and pays a little."""
    village = village or village_of(user)
    man = id_no(region, born, 200 + 2 * seq + 1)
    son = id_no(region, D(born.year + 28, 8, 8), 250 + 2 * seq + 1)
    return register_household(
        session, user, village=village, address=f"{village.name}{seq}组{seq + 40}号",
        members=[MemberInput("吴德福", man, "head", health="chronic", work_ability="none",
                             disability_grade=disability_grade, incomes={"basic_pension": pension})],
        supporters=[SupporterInput("吴建华", son, "赡养", supports=man, monthly_income=Decimal("2800"),
                                   monthly_support_paid="100", address="合肥市")])


def add_park(app, code: str, name: str) -> dict:
    """An industrial park or development zone (园区、县经开区) at township level, with a community
    and its staff, leader and assistant: ``<code>-park-staff``, ``-park-leader``, ``-park-village``."""
    from jiuzhu.auth.roles import Role
    from jiuzhu.auth.services import create_user
    from jiuzhu.tenancy.services import add_org_unit, county_root
    from tests.conftest import PASSWORD

    with app.app_context():
        with use_scope(Scope.platform()):
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.code == code))
        with use_scope(Scope(tenant_id)):
            park = add_org_unit(db.session, parent=county_root(db.session), name=name)
            community = add_org_unit(db.session, parent=park, name=f"{name}第一社区")
            for suffix, role, unit in (("staff", Role.township_staff, park), ("leader", Role.township_leader, park),
                                       ("village", Role.village_assistant, community)):
                create_user(db.session, username=f"{code}-park-{suffix}", full_name=f"{name}{suffix}", role=role,
                            password=PASSWORD, org_unit=unit)
            info = {"park": park.id, "community": community.id}
            db.session.commit()
        db.session.remove()
    return info
