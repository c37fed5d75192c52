"""Building the Admin object for one application."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.menu import MenuLink
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user

from jiuzhu.admin.base import HomeView
from jiuzhu.auth.roles import Role
from jiuzhu.extensions import db
from jiuzhu.i18n_terms import lazy as _l

CATEGORY_ORG = _l("组织与用户")
CATEGORY_PLATFORM = _l("平台管理")
CATEGORY_REMINDERS = _l("提醒与督办")
CATEGORY_REPORTS = _l("县级监管")


class RoleLink(MenuLink):
    """A menu link shown only to some roles."""

    def __init__(self, name, *, endpoint, roles):
        super().__init__(name, endpoint=endpoint)
        self.roles = roles

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in self.roles


CASE_READERS = frozenset(Role) - {Role.platform_operator}
INTAKE_ROLES = frozenset({Role.township_staff, Role.township_leader, Role.county_staff, Role.village_assistant})


def init_admin(app: Flask) -> Admin:
    from jiuzhu.api.admin import ApiToken, ApiTokenView
    from jiuzhu.auth.admin import SecurityPolicyView, User, UserView
    from jiuzhu.calendar.admin import CalendarView
    from jiuzhu.cases.views import CaseworkView
    from jiuzhu.duplicates.views import DuplicateView
    from jiuzhu.outreach.views import OutreachView
    from jiuzhu.payments.views import PaymentsView
    from jiuzhu.plugins.admin import PluginSettingsView
    from jiuzhu.privacy.admin import AccessLogView, PersonalDataAccess
    from jiuzhu.reminders.admin import ChannelView, InboxView, QueueView, SupervisionView
    from jiuzhu.reminders.models import Notification, NotificationChannel, SupervisionItem
    from jiuzhu.reports.views import DashboardView, RollImportView, StatisticsView
    from jiuzhu.security.headers import csp_nonce
    from jiuzhu.spotchecks.views import KinshipView, ReportView, SpotCheckView
    from jiuzhu.tenancy.admin import OrgUnitView, TenantView
    from jiuzhu.tenancy.models import OrgUnit, Tenant
    from jiuzhu.warnings.views import WarningView

    admin = Admin(
        app,
        name=_l("救助 · 社会救助审核确认平台"),
        theme=Bootstrap4Theme(base_template="jiuzhu/admin_base.html", fluid=True),
        index_view=HomeView(name=_l("首页"), url="/admin"),
        csp_nonce_generator=csp_nonce,
    )
    admin.add_view(CaseworkView(name=_l("我的待办"), endpoint="casework", url="/admin/casework"))
    admin.add_view(WarningView(name=_l("预警处置"), endpoint="warnings", url="/admin/warnings"))
    admin.add_view(OutreachView(name=_l("必访走访"), endpoint="outreach", url="/admin/outreach"))
    admin.add_link(RoleLink(_l("案件查询"), endpoint="casework.cases", roles=CASE_READERS))
    admin.add_view(DashboardView(name=_l("督办看板"), category=CATEGORY_REPORTS, endpoint="dashboard",
                                 url="/admin/dashboard"))
    admin.add_view(StatisticsView(name=_l("统计报表"), category=CATEGORY_REPORTS, endpoint="statistics",
                                  url="/admin/statistics"))
    admin.add_view(PaymentsView(name=_l("保障金发放"), category=CATEGORY_REPORTS, endpoint="payments",
                                url="/admin/payments"))
    admin.add_view(SpotCheckView(name=_l("抽查"), category=CATEGORY_REPORTS, endpoint="spotchecks",
                                 url="/admin/spotchecks"))
    admin.add_view(DuplicateView(name=_l("重复享受核查"), category=CATEGORY_REPORTS, endpoint="duplicates",
                                 url="/admin/duplicates"))
    admin.add_view(KinshipView(name=_l("近亲属关系备案"), category=CATEGORY_REPORTS, endpoint="kinship",
                               url="/admin/kinship"))
    admin.add_view(ReportView(name=_l("实名举报"), category=CATEGORY_REPORTS, endpoint="reports",
                              url="/admin/reports"))
    admin.add_view(RollImportView(name=_l("花名册导入"), category=CATEGORY_REPORTS, endpoint="rolls", url="/admin/rolls"))
    # one name per action: a township takes an application (受理登记), a village files one for the applicant
    admin.add_link(RoleLink(_l("受理登记"), endpoint="casework.new", roles=INTAKE_ROLES - {Role.village_assistant}))
    admin.add_link(RoleLink(_l("代为申请"), endpoint="casework.new", roles=frozenset({Role.village_assistant})))
    admin.add_view(OrgUnitView(OrgUnit, db, name=_l("组织机构"), category=CATEGORY_ORG, endpoint="orgunit"))
    admin.add_view(UserView(User, db, name=_l("用户"), category=CATEGORY_ORG, endpoint="user"))
    admin.add_view(SecurityPolicyView(name=_l("安全策略"), category=CATEGORY_ORG, endpoint="security_policy",
                                      url="/admin/security-policy"))
    admin.add_view(AccessLogView(PersonalDataAccess, db, name=_l("个人信息访问记录"), category=CATEGORY_ORG,
                                 endpoint="access_log"))
    admin.add_view(ApiTokenView(ApiToken, db, name=_l("接口令牌"), category=CATEGORY_ORG, endpoint="apitoken"))
    admin.add_view(PluginSettingsView(name=_l("地方规则设置"), category=CATEGORY_ORG, endpoint="plugin_settings",
                                      url="/admin/settings"))
    admin.add_view(TenantView(Tenant, db, name=_l("县（区）"), category=CATEGORY_PLATFORM, endpoint="tenant"))
    admin.add_view(CalendarView(name=_l("工作日历"), category=CATEGORY_PLATFORM, endpoint="calendar_admin",
                                url="/admin/calendar"))
    admin.add_view(InboxView(Notification, db, name=_l("站内消息"), endpoint="inbox"))
    admin.add_view(SupervisionView(SupervisionItem, db, name=_l("督办事项"), category=CATEGORY_REMINDERS,
                                   endpoint="supervision"))
    admin.add_view(ChannelView(NotificationChannel, db, name=_l("通知渠道"), category=CATEGORY_REMINDERS,
                               endpoint="channel"))
    admin.add_view(QueueView(name=_l("任务队列"), category=CATEGORY_REMINDERS, endpoint="queues"))
    import os

    from jiuzhu.clock import DEMO_CLOCK_ENV

    if os.environ.get(DEMO_CLOCK_ENV):  # the demo only (create_app refuses it on a real database)
        from jiuzhu.demo_clock import DemoClockView

        admin.add_view(DemoClockView(name=_l("演示时钟"), endpoint="demo_clock", url="/admin/demo-clock"))
    return admin
