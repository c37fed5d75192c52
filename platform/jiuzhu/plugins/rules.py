"""Declarative rules a plugin states besides its workflow: payments, spot checks, disclosure,
monitoring warnings. The core modules that act on them read these; a plugin only declares.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from jiuzhu.cases.categories import Category
from jiuzhu.workflow.spec import Due


class BenefitStart(enum.StrEnum):
    #: 从确认之日下月起 (national, Shexian)
    month_after = "month_after"
    #: 从确认给予最低生活保障的当月计发 (Jingdezhen)
    same_month = "same_month"


@dataclass(frozen=True)
class PaymentRule:
    start: BenefitStart = BenefitStart.month_after
    #: benefits reach the household's account by this day of each month (Jingdezhen: 10)
    pay_by_day: int | None = None
    #: a one-off temporary relief equal to the confirmed monthly per-capita amount, within this many
    #: working days of confirmation, for these categories (Shexian: 3, 特困/低保)
    one_off_relief_workdays: int | None = None
    one_off_relief_categories: tuple[Category, ...] = ()
    #: how the money reaches households (Dangtu: a financial institution entrusted by the county and
    #: the province's payment system); recorded on each benefit schedule
    paid_through: str = ""
    source: str = ""


@dataclass(frozen=True)
class SpotCheckRule:
    """The county's re-check of newly approved households (抽查)."""

    categories: tuple[Category, ...] = (Category.dibao,)
    #: at least this share of new cases is sampled (None: the county decides)
    sample_share: Decimal | None = None
    #: at least this share is checked on site (实地抽查): of the sample, or of the new cases when
    #: ``on_site_of_new_cases`` (Jingdezhen: "其中实地抽查比例不低于 30%" of the new households)
    on_site_share: Decimal | None = None
    on_site_of_new_cases: bool = False
    #: new cases decided within this many days before the draw (Jingdezhen: 90)
    window_days: int | None = None
    #: every new case is considered by a draw: one decided more than ``window_days`` before a draw and
    #: never considered is still in the draw's population, and the county is warned of new cases past
    #: ``window_days`` no draw has considered and of draws short of the shares
    complete_coverage: bool = False
    #: households related to handling staff are registered and all checked on site
    related_staff_all_on_site: bool = False
    #: every real-name report (实名举报) is verified and answered
    answer_real_name_reports: bool = False
    #: a report found true is corrected (问题纠正), and the correction recorded, before the reporter is answered
    correct_substantiated_reports: bool = False
    source: str = ""


@dataclass(frozen=True)
class VisitRule:
    """Regular visits to households of must-visit groups (走访摸排), every ``interval_days`` unless the
    county sets its own period (setting ``visit_interval_days``)."""

    #: the household tags (``household_tags`` keys) whose households must be visited
    tags: tuple[str, ...] = ()
    #: the period when the county has set none
    interval_days: int = 90
    #: the longest period a county may set
    max_interval_days: int = 366
    source: str = ""


class DisclosureField(enum.StrEnum):
    names = "names"
    members_count = "members_count"
    reason = "reason"
    monthly_amount = "monthly_amount"
    village = "village"
    category = "category"

    @property
    def label(self) -> str:
        return {"names": "家庭成员姓名", "members_count": "保障人数", "reason": "困难原因",
                "monthly_amount": "家庭月保障金额", "village": "所在村（社区）", "category": "救助类别"}[self.value]


@dataclass(frozen=True)
class DisclosureRule:
    """What the public may see of a household on a publicity page, where, and for how long."""

    fields: tuple[DisclosureField, ...] = (DisclosureField.names, DisclosureField.members_count,
                                           DisclosureField.monthly_amount, DisclosureField.village)
    #: names shown masked (张*明) rather than in full
    mask_names: bool = True
    #: members under 18 are never shown
    hide_minors: bool = True
    #: approved households stay on the page until their benefits stop
    approved_until_stop: bool = False
    #: exits stay on the page at least this many months (None: not published)
    exit_months: int | None = None
    #: 人户分离: published where registered and where living
    both_places_when_separated: bool = False
    #: where publicity is posted (recorded on the publicity step)
    channels: tuple[str, ...] = ("村（居）务公开栏",)
    #: the workflow steps during which a proposed case is on the page (its publicity)
    publicity_steps: tuple[str, ...] = ("publicity",)
    #: the categories whose households are published (None: every category)
    categories: tuple[Category, ...] | None = None
    source: str = ""


@dataclass(frozen=True)
class WarningRule:
    """Monitoring warnings (预警) pushed by the low-income monitoring platform."""

    #: verified and decided within this limit of the warning's arrival
    due: Due = Due(20)
    source: str = ""
