"""The six roles, the org level each belongs to, and what each may do in the core."""

from __future__ import annotations

import enum

from jiuzhu.tenancy.models import OrgLevel


class Role(enum.StrEnum):
    platform_operator = "platform_operator"
    county_admin = "county_admin"
    county_staff = "county_staff"
    township_staff = "township_staff"
    township_leader = "township_leader"
    village_assistant = "village_assistant"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def org_level(self) -> OrgLevel | None:
        """The level of org unit a user with this role belongs to (None: the platform)."""
        return ROLE_LEVEL[self]

    @property
    def is_county(self) -> bool:
        return self.org_level == OrgLevel.county

    @property
    def is_township(self) -> bool:
        return self.org_level == OrgLevel.township

    @property
    def is_village(self) -> bool:
        return self.org_level == OrgLevel.village


ROLE_LABELS = {
    Role.platform_operator: "平台运维人员",
    Role.county_admin: "县级管理员",
    Role.county_staff: "县级民政工作人员",
    Role.township_staff: "乡镇（街道）经办人员",
    Role.township_leader: "乡镇（街道）负责人",
    Role.village_assistant: "村（社区）社会救助协理员",
}

ROLE_LEVEL = {
    Role.platform_operator: None,
    Role.county_admin: OrgLevel.county,
    Role.county_staff: OrgLevel.county,
    Role.township_staff: OrgLevel.township,
    Role.township_leader: OrgLevel.township,
    Role.village_assistant: OrgLevel.village,
}

#: roles a county admin may give (the operator role is the platform's own)
TENANT_ROLES = tuple(r for r in Role if r is not Role.platform_operator)
