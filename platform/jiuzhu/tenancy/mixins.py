"""Column mixins that mark a model as owned by a tenant, and optionally by a township/village."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from jiuzhu.tenancy.context import Scope


class TenantScoped:
    """A row owned by one tenant (county). Every query is filtered to the current tenant.

    ``__tenant_nullable__ = True`` lets platform-level rows (tenant_id NULL) exist, seen only in
    the platform scope — used for the platform operator's own user account.

    ``tenant_id`` has no index of its own: on PostgreSQL every county table's primary key (``users``:
    a unique key) leads with it (migrations 0062, 0076), which serves every ``tenant_id = …``.
    ``__tenant_key__ = False``: no foreign key to ``tenants`` either, for a table a NOT NULL composite
    key ``(tenant_id, x)`` already ties to a county table (the rows the reminder sweep writes in bulk:
    a second check and a share lock on the county's row per row written, for nothing).
    """

    __tenant_nullable__ = False
    __tenant_key__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        keys = [ForeignKey("tenants.id", ondelete="RESTRICT")] if cls.__tenant_key__ else []
        return mapped_column(
            *keys,
            nullable=cls.__tenant_nullable__,
            comment="Owning tenant (county); filtered centrally and by row-level security.",
        )


class OrgScoped(TenantScoped):
    """A tenant-owned row that also belongs to a township (and maybe a village).

    The default implementation reads ``township_id``/``village_id`` columns that the model declares.
    Models whose place in the org tree is expressed otherwise override the three methods below.
    """

    @classmethod
    def township_criteria(cls, township_id):
        return cls.township_id == township_id

    @classmethod
    def village_criteria(cls, village_id):
        return cls.village_id == village_id

    def in_org_scope(self, scope: Scope) -> bool:
        if scope.village_id is not None:
            return self.village_id == scope.village_id
        if scope.township_id is not None:
            return self.township_id == scope.township_id
        return True
