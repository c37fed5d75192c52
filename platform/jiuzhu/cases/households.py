"""The household register: households (户), members, income and property, legal supporters."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiuzhu.audit.capture import Audited
from jiuzhu.crypto.blindindex import INDEX_LENGTH
from jiuzhu.crypto.types import EncryptedText, keep_blind_index
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.context import Scope
from jiuzhu.tenancy.mixins import OrgScoped

MONEY = Numeric(12, 2)


class Household(Audited, OrgScoped, Base):
    """A household applying for or receiving assistance, placed where it actually lives."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: township and village of actual residence (实际居住地)
    township_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    #: registered residence (户籍所在地) when it is a unit of this county; None if elsewhere or the same
    registered_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    #: registered residence in words when outside this county (人户分离 across counties)
    registered_place: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200), default="")
    #: encrypted (SM4-GCM); shown masked
    phone: Mapped[str | None] = mapped_column(EncryptedText("households.phone"))
    #: plugin-defined tags, e.g. Jingdezhen's nine must-visit groups (必到必访九类人群)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    members: Mapped[list[Member]] = relationship(back_populates="household", order_by="Member.id",
                                                 cascade="all, delete-orphan")
    incomes: Mapped[list[IncomeItem]] = relationship(back_populates="household", cascade="all, delete-orphan")
    properties: Mapped[list[PropertyItem]] = relationship(back_populates="household", cascade="all, delete-orphan")
    supporters: Mapped[list[LegalSupporter]] = relationship(back_populates="household",
                                                            cascade="all, delete-orphan")

    @property
    def separated(self) -> bool:
        """人户分离: registered somewhere other than where the household lives."""
        return bool(self.registered_place) or (
            self.registered_unit_id is not None and self.registered_unit_id not in (self.village_id,
                                                                                     self.township_id))

    # A township sees the households it lives in, and those of a case it shares (the registered or
    # the emergency township of a case of the household: ``Case.other_township_id``); a village its own.
    # Only the residence township writes the household (``in_org_scope``, the mixin's).
    @classmethod
    def township_criteria(cls, township_id):
        from jiuzhu.cases.models import Case

        # uncorrelated (a statement may join cases itself): the few shared cases, by the partial index
        return or_(cls.township_id == township_id,
                   cls.id.in_(select(Case.household_id).where(Case.other_township_id == township_id)
                              .correlate(None)))

    @property
    def coresident(self) -> list[Member]:
        return [m for m in self.members if m.coresident]

    @property
    def head(self) -> Member | None:
        return next((m for m in self.members if m.relation == Relation.head), None)

    def __str__(self) -> str:
        head = self.head
        return household_label(head.name if head else None, self.id)


def household_label(head_name: str | None, household_id: int) -> str:
    """How screens name a household: 某某户 after its head, or 户 n with no head recorded (also for a
    page that reads only the head's name, not the household)."""
    return f"{head_name}户" if head_name else f"户 {household_id}"


class ThroughHousehold(OrgScoped):
    """Rows that belong to a household (a ``household_id`` column), visible where the household is."""

    @classmethod
    def township_criteria(cls, township_id):
        return cls.household_id.in_(select(Household.id).where(Household.township_criteria(township_id)))

    @classmethod
    def village_criteria(cls, village_id):
        return cls.household_id.in_(select(Household.id).where(Household.village_id == village_id))

    def in_org_scope(self, scope: Scope) -> bool:
        household = self.household
        return household is None or household.in_org_scope(scope)


class ScopedThroughHousehold(Audited, ThroughHousehold):
    """Rows that belong to a household, visible where the household is, audited."""


class Relation(enum.StrEnum):
    head = "head"
    spouse = "spouse"
    child = "child"
    parent = "parent"
    grandchild = "grandchild"
    grandparent = "grandparent"
    sibling = "sibling"
    other = "other"

    @property
    def label(self) -> str:
        return {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母", "grandchild": "孙子女",
                "grandparent": "祖父母", "sibling": "兄弟姐妹", "other": "其他"}[self.value]


class Health(enum.StrEnum):
    healthy = "healthy"
    chronic = "chronic"
    serious = "serious"

    @property
    def label(self) -> str:
        return {"healthy": "健康", "chronic": "慢性病", "serious": "重病"}[self.value]


class WorkAbility(enum.StrEnum):
    full = "full"
    partial = "partial"
    none = "none"

    @property
    def label(self) -> str:
        return {"full": "有劳动能力", "partial": "部分丧失劳动能力", "none": "无劳动能力"}[self.value]


class Member(ScopedThroughHousehold, Base):
    """A person of the household (家庭成员), identified by the 居民身份证 number."""

    __tablename__ = "household_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    #: 18-character number, validated (GB 11643); birth date and sex are derived from it. Encrypted
    #: (SM4-GCM), shown masked; found through ``id_number_bidx``
    id_number: Mapped[str] = mapped_column(EncryptedText("household_members.id_number"))
    #: blind index of the ID number (HMAC-SM3, kept by ``keep_blind_index``): search and duplicate checks
    id_number_bidx: Mapped[str] = mapped_column(String(INDEX_LENGTH), index=True)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(6))
    relation: Mapped[Relation] = mapped_column(Enum(Relation, native_enum=False, length=16))
    #: lives with the household (共同生活家庭成员) — only these count in per-capita income
    coresident: Mapped[bool] = mapped_column(Boolean, default=True)
    #: 残疾等级: 0 none, 1–4 as on the disability certificate (1 and 2 are 重度)
    disability_grade: Mapped[int] = mapped_column(SmallInteger, default=0)
    health: Mapped[Health] = mapped_column(Enum(Health, native_enum=False, length=16), default=Health.healthy)
    work_ability: Mapped[WorkAbility] = mapped_column(Enum(WorkAbility, native_enum=False, length=16),
                                                      default=WorkAbility.full)
    #: in work (employed, self-employed, migrant work): Zongyang deducts work costs for these
    working: Mapped[bool] = mapped_column(Boolean, default=False)

    household: Mapped[Household] = relationship(back_populates="members")

    __audit_ignore__ = frozenset({"id_number_bidx"})

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    @property
    def severely_disabled(self) -> bool:
        return self.disability_grade in (1, 2)


class MemberNameGram(ThroughHousehold, Base):
    """The keys of a member's name — each pair of adjacent characters, and its last character alone —
    with the member and its household: how 案件查询 finds a name by its part, one character too, without
    reading every name of the county (:mod:`jiuzhu.cases.search`). Sorted by code point (``COLLATE
    "C"``, migration 0082): the keys that begin with a character are one range of the index.

    Kept by triggers on ``household_members`` in the writing transaction (PostgreSQL, migrations 0077, 0082)
    and removed with the member; never written by the application, never exported with a county (an
    import's members make them anew). The demo's SQLite has none: its search reads the names."""

    __tablename__ = "member_name_grams"
    __tenant_key__ = False  # tied to its county by (tenant_id, member_id)
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "gram", "member_id", name="pk_member_name_grams"),
                      # a member's pairs, for its update and its removal
                      Index("ix_member_name_grams_member", "tenant_id", "member_id"))

    gram: Mapped[str] = mapped_column(String(2).with_variant(String(2, collation="C"), "postgresql"))
    member_id: Mapped[int] = mapped_column(ForeignKey("household_members.id", ondelete="CASCADE"))
    household_id: Mapped[int] = mapped_column(Integer)

    def in_org_scope(self, scope: Scope) -> bool:
        return scope.township_id is None and scope.village_id is None  # the triggers write them, never a township


class IncomeKind(enum.StrEnum):
    wage = "wage"
    business = "business"
    asset = "asset"
    transfer = "transfer"
    basic_pension = "basic_pension"
    other_pension = "other_pension"
    support = "support"

    @property
    def label(self) -> str:
        return {"wage": "工资性收入", "business": "经营净收入", "asset": "财产净收入",
                "transfer": "转移净收入", "basic_pension": "城乡居民基本养老保险基础养老金",
                "other_pension": "其他养老金", "support": "赡养（抚养、扶养）费"}[self.value]


class IncomeItem(ScopedThroughHousehold, Base):
    __tablename__ = "household_incomes"
    # a member removed takes its incomes: found by this key, not by reading every county's incomes
    __table_args__ = (Index("ix_household_incomes_member", "tenant_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("household_members.id", ondelete="CASCADE"))
    kind: Mapped[IncomeKind] = mapped_column(Enum(IncomeKind, native_enum=False, length=24))
    #: yuan per month
    monthly_amount: Mapped[Decimal] = mapped_column(MONEY)
    #: encrypted: what is said about an income is income detail
    note: Mapped[str | None] = mapped_column(EncryptedText("household_incomes.note"))

    household: Mapped[Household] = relationship(back_populates="incomes")
    member: Mapped[Member | None] = relationship()


class PropertyItem(ScopedThroughHousehold, Base):
    __tablename__ = "household_properties"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    #: e.g. 存款, 房产, 车辆, 有价证券
    kind: Mapped[str] = mapped_column(String(40))
    #: yuan
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    #: encrypted, like income notes
    note: Mapped[str | None] = mapped_column(EncryptedText("household_properties.note"))

    household: Mapped[Household] = relationship(back_populates="properties")


class LegalSupporter(ScopedThroughHousehold, Base):
    """A person legally bound to support a member (法定赡养、抚养、扶养义务人) who lives apart."""

    __tablename__ = "legal_supporters"
    __table_args__ = (Index("ix_legal_supporters_supported_member", "tenant_id", "supported_member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    #: encrypted (SM4-GCM); printed in full only in the case file
    id_number: Mapped[str] = mapped_column(EncryptedText("legal_supporters.id_number"))
    #: 赡养 (of parents), 抚养 (of children), 扶养 (between spouses)
    duty: Mapped[str] = mapped_column(String(8))
    supported_member_id: Mapped[int | None] = mapped_column(ForeignKey("household_members.id", ondelete="SET NULL"))
    #: the supporter's own monthly income, yuan
    monthly_income: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    #: support actually paid per month, yuan (counts as the household's income)
    monthly_support_paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    address: Mapped[str | None] = mapped_column(String(200))

    household: Mapped[Household] = relationship(back_populates="supporters")
    supported_member: Mapped[Member | None] = relationship()


keep_blind_index(Member, "id_number", "id_number_bidx", "id_number")


__all__ = ["Household", "Member", "IncomeItem", "PropertyItem", "LegalSupporter", "Relation", "Health",
           "WorkAbility", "IncomeKind", "ScopedThroughHousehold", "MONEY"]
