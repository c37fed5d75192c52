"""Registering households: members with validated ID numbers, incomes, property, legal supporters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from jiuzhu.audit import record
from jiuzhu.auth.models import User
from jiuzhu.cases.households import (
    Health,
    Household,
    IncomeItem,
    IncomeKind,
    LegalSupporter,
    Member,
    PropertyItem,
    Relation,
    WorkAbility,
)
from jiuzhu.cases.idcard import InvalidIdNumber, parse_id_number
from jiuzhu.clock import china_today
from jiuzhu.crypto.types import index_candidates
from jiuzhu.errors import PermissionDenied, ValidationError
from jiuzhu.money import MoneyError, parse_money
from jiuzhu.privacy.masking import mask_id_number
from jiuzhu.tenancy.context import Scope, require_scope, use_scope
from jiuzhu.tenancy.models import OrgLevel, OrgUnit


@dataclass
class MemberInput:
    name: str
    id_number: str
    relation: str
    coresident: bool = True
    disability_grade: int = 0
    health: str = "healthy"
    work_ability: str = "full"
    working: bool = False
    #: monthly income by kind, yuan
    incomes: dict[str, Decimal | str | int] = field(default_factory=dict)


@dataclass
class SupporterInput:
    name: str
    id_number: str
    duty: str  # 赡养 / 抚养 / 扶养
    supports: str | None = None  # the supported member's ID number
    monthly_income: Decimal | str | int = 0
    monthly_support_paid: Decimal | str | int = 0
    address: str | None = None


DUTIES = ("赡养", "抚养", "扶养")
#: longest phone number kept (the column was 32 characters before it was encrypted)
PHONE_MAX = 32


class Refusals:
    """What is wrong with an input, each message under the field it concerns (``members.0.id_number``,
    ``address`` …) or in general: all of it is reported at once, beside its field on a screen."""

    def __init__(self):
        self.general: list[str] = []
        self.fields: dict[str, list[str]] = {}

    def add(self, message: str, key: str | None = None) -> None:
        if key is None:
            self.general.append(message)
        else:
            self.fields.setdefault(key, []).append(message)

    def money(self, value, label: str, key: str) -> Decimal:
        try:
            return parse_money(value, label)
        except MoneyError as exc:
            self.add(str(exc), key)
            return Decimal("0")

    def __bool__(self) -> bool:
        return bool(self.general or self.fields)

    def error(self) -> ValidationError:
        return ValidationError(*self.general, field_errors=self.fields)


def register_household(session, user: User, *, village: OrgUnit | None, township: OrgUnit | None = None,
                       address: str, members: list[MemberInput], supporters: list[SupporterInput] = (),
                       properties: list[tuple[str, Decimal | str | int]] = (), phone: str | None = None,
                       registered_unit: OrgUnit | None = None, registered_place: str | None = None,
                       tags: list[str] = (), on: dt.date | None = None) -> Household:
    """A household with its members, incomes, property and legal supporters, validated as a whole:
    every problem is reported at once, each under its field (see :class:`Refusals`)."""
    on = on or china_today()
    refused = Refusals()
    add = refused.add
    # A village user cannot see the township row itself: work with its id.
    township_id = township.id if township is not None else None
    if village is not None:
        if village.level != OrgLevel.village:
            add(f"“{village.name}”不是村（社区）。", "village_id")
        elif township_id is not None and village.parent_id != township_id:
            add(f"“{village.name}”不属于“{township.name}”。", "village_id")
        township_id = village.parent_id
    elif township is None or township.level != OrgLevel.township:
        add("请选择该户实际居住的乡镇（街道）。", "village_id")
    if user.role.is_village and (village is None or village.id != user.org_unit_id):
        raise PermissionDenied("村（社区）协理员只能登记本村（社区）的家庭。")
    for value, limit, label, key in ((address, 200, "家庭住址", "address"), (phone, PHONE_MAX, "联系电话", "phone"),
                                     (registered_place, 200, "户籍所在地", "registered_place")):
        if value and len(value.strip()) > limit:
            add(f"{label}过长（最多 {limit} 个字）。", key)
    if not members:
        add("请至少登记一名家庭成员。", "members")
    heads = [m for m in members if m.relation == Relation.head]
    if members and len(heads) != 1:
        add("须有且只有一名户主。", "members")
    seen: dict[str, int] = {}
    parsed = {}
    for i, m in enumerate(members):
        key = f"members.{i}"
        who = m.name.strip() or f"第 {i + 1} 名成员"
        if not m.name.strip():
            add(f"第 {i + 1} 名成员姓名为空。", f"{key}.name")
        elif len(m.name.strip()) > 50:
            add(f"第 {i + 1} 名成员姓名过长（最多 50 个字）。", f"{key}.name")
        if m.relation not in Relation.__members__:
            add(f"{who}：与户主关系“{m.relation}”无效。", f"{key}.relation")
        if m.disability_grade not in range(0, 5):
            add(f"{who}：残疾等级应为 0（无）至 4。", f"{key}.disability_grade")
        if m.health not in Health.__members__:
            add(f"{who}：健康状况填写无效。", f"{key}.health")
        if m.work_ability not in WorkAbility.__members__:
            add(f"{who}：劳动能力填写无效。", f"{key}.work_ability")
        for kind, amount in m.incomes.items():
            if kind not in IncomeKind.__members__:
                add(f"{who}：收入类别“{kind}”无效。", f"{key}.incomes")
            else:
                refused.money(amount, f"{who}的收入", f"{key}.incomes.{kind}")
        try:
            parsed[i] = parse_id_number(m.id_number)  # born by today (after the application: a warning)
        except InvalidIdNumber as exc:
            add(f"{who}：{exc}", f"{key}.id_number")
            continue
        if parsed[i].number in seen:
            add(f"{who}：身份证号码与其他成员重复。", f"{key}.id_number")
        seen.setdefault(parsed[i].number, i)
    if seen:
        for number in numbers_registered(session, seen):
            add(f"身份证号码 {mask_id_number(number)} 已登记在本县其他家庭中（一户一档）。",
                f"members.{seen.get(number, 0)}.id_number")
    for j, s in enumerate(supporters):
        key = f"supporters.{j}"
        if len(s.name.strip()) > 50:
            add(f"义务人{s.name[:20]}：姓名最多 50 个字。", f"{key}.name")
        if s.address and len(s.address.strip()) > 200:
            add(f"义务人{s.name[:20]}：地址最多 200 个字。", f"{key}.address")
        if s.duty not in DUTIES:
            add(f"义务人{s.name}：义务类别应为赡养、抚养或扶养。", f"{key}.duty")
        try:
            parse_id_number(s.id_number)
        except InvalidIdNumber as exc:
            add(f"义务人{s.name}：{exc}", f"{key}.id_number")
        if s.supports and s.supports.upper() not in seen:
            add(f"义务人{s.name}：被供养的成员不在本户成员中。", f"{key}.supports")
        refused.money(s.monthly_income, f"义务人{s.name}的月收入", f"{key}.monthly_income")
        refused.money(s.monthly_support_paid, f"义务人{s.name}的给付", f"{key}.monthly_support_paid")
    for k, (kind, value) in enumerate(properties):
        refused.money(value, f"财产“{kind}”", f"properties.{k}")
    if refused:
        raise refused.error()

    household = Household(township_id=township_id, village_id=village.id if village else None,
                          registered_unit_id=registered_unit.id if registered_unit else None,
                          registered_place=(registered_place or "").strip() or None, address=address.strip(),
                          phone=(phone or "").strip() or None, tags=list(tags))
    session.add(household)
    by_number = {}
    for i, m in enumerate(members):
        info = parsed[i]
        member = Member(name=m.name.strip(), id_number=info.number, birth_date=info.birth_date, sex=info.sex,
                        relation=Relation(m.relation), coresident=m.coresident, disability_grade=m.disability_grade,
                        health=Health(m.health), work_ability=WorkAbility(m.work_ability), working=m.working)
        household.members.append(member)
        by_number[info.number] = member
        for kind, amount in m.incomes.items():
            household.incomes.append(IncomeItem(member=member, kind=IncomeKind(kind),
                                                monthly_amount=Decimal(str(amount))))
    for s in supporters:
        household.supporters.append(LegalSupporter(
            name=s.name.strip(), id_number=s.id_number.strip().upper(), duty=s.duty,
            supported_member=by_number.get((s.supports or "").upper()),
            monthly_income=Decimal(str(s.monthly_income)), monthly_support_paid=Decimal(str(s.monthly_support_paid)),
            address=s.address))
    for kind, value in properties:
        household.properties.append(PropertyItem(kind=kind, value=Decimal(str(value))))
    session.flush()
    record(session, entity_type="household", entity_id=household.id, action="register",
           after={"township_id": household.township_id, "village_id": household.village_id,
                  "members": len(household.members), "supporters": len(household.supporters)})
    return household


def household_of_person(session, id_number: str) -> Household | None:
    """The registered household (in the current scope) a person with this ID number belongs to,
    found through the blind index of the (encrypted) number."""
    return session.scalars(select(Household).join(Member, Member.household_id == Household.id)
                           .where(Member.id_number_bidx.in_(index_candidates("id_number", id_number)))).first()


def numbers_registered(session, numbers) -> list[str]:
    """Which of these ID numbers a member of the county already has — in any township: 一户一档 is
    county-wide, so a person in another township's household, out of this user's sight, still
    counts. Compared through blind indexes; the numbers come back decrypted."""
    numbers = list(numbers)
    found: list[str] = []
    with use_scope(Scope(require_scope().tenant_id)):
        for start in range(0, len(numbers), 500):
            wanted = index_candidates("id_number", numbers[start:start + 500])
            found += session.scalars(select(Member.id_number).where(Member.id_number_bidx.in_(wanted))).all()
    return found


#: the youngest age at which someone is plausibly a spouse (the legal age of marriage is 20 or 22; a
#: younger spouse is possible only by a mistake or a situation staff should look at)
SPOUSE_MIN_AGE = 18


def plausibility_warnings(members: list[MemberInput], on: dt.date) -> dict[str, list[str]]:
    """What is possible but unlikely in a household as entered — a minor as 配偶, a member born after the
    application — by field (``members.<i>.…``). Not refusals: staff confirm them, or correct."""
    out: dict[str, list[str]] = {}
    for i, m in enumerate(members):
        try:
            info = parse_id_number(m.id_number, None)
        except InvalidIdNumber:
            continue  # (refused elsewhere)
        who = m.name.strip() or f"第 {i + 1} 名成员"
        if info.birth_date > on:
            out.setdefault(f"members.{i}.id_number", []).append(
                f"{who}的出生日期（{info.birth_date:%Y-%m-%d}）晚于申请日期，请核实身份证号码或申请日期。")
        elif m.relation == Relation.spouse and info.age_on(on) < SPOUSE_MIN_AGE:
            out.setdefault(f"members.{i}.relation", []).append(
                f"{who}登记为配偶，但按身份证号码申请时仅 {info.age_on(on)} 岁，请核实与户主的关系。")
    return out
