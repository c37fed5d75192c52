"""个人信息访问记录: the county admin reads who looked at whose information, with filters."""

from __future__ import annotations

from jiuzhu.admin.base import TenantModelView
from jiuzhu.auth.roles import ROLE_LABELS, Role
from jiuzhu.privacy.models import PersonalDataAccess

SUBJECT_LABELS = {"case": "案件", "household": "家庭", "household_member": "家庭成员", "notice": "通知书",
                  "material_file": "申请材料", "warning_ticket": "预警", "realname_report": "实名举报"}


def _subject_label(value: str) -> str:
    return SUBJECT_LABELS.get(value, "名单" if value else "")


def _role_label(value: str) -> str:
    try:
        return ROLE_LABELS[Role(value)]
    except ValueError:
        return "系统" if value == "system" else value


class AccessLogView(TenantModelView):
    """Read-only, newest first; nobody can change or delete a row (the database refuses too)."""

    roles = frozenset()
    read_roles = frozenset({Role.county_admin})
    allow_create = allow_edit = allow_delete = False
    can_view_details = False
    column_list = ["at", "user_name", "user_role", "kind", "subject_type", "subject_id", "household_id", "detail",
                   "source"]
    column_labels = {"at": "时间", "user_name": "访问人", "user_role": "角色", "kind": "操作", "subject_type": "对象",
                     "subject_id": "对象编号", "household_id": "家庭编号", "detail": "说明", "source": "来源地址"}
    column_default_sort = ("at", True)
    column_filters = ["kind", "user_name", "at", "household_id"]
    column_searchable_list = ["user_name"]
    column_formatters = {"kind": lambda v, c, m, n: m.kind.label, "user_role": lambda v, c, m, n: _role_label(m.user_role),
                         "subject_type": lambda v, c, m, n: _subject_label(m.subject_type)}
    column_formatters_export = column_formatters
    page_size = 100


__all__ = ["AccessLogView", "PersonalDataAccess"]
