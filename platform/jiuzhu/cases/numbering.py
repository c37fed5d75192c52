"""Numbers for notices and certificates: per tenant, per kind, per year, without gaps or repeats."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from jiuzhu.cases.models import DocumentSequence
from jiuzhu.tenancy.context import require_scope


def next_number(session, kind: str, year: int) -> int:
    """The next number of ``kind`` in ``year`` for the current tenant (locks the counter row until commit)."""
    tenant_id = require_scope().tenant_id
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(DocumentSequence).values(tenant_id=tenant_id, kind=kind, year=year, last_number=0)
                    .on_conflict_do_nothing(index_elements=["tenant_id", "kind", "year"]))
    seq = session.scalars(select(DocumentSequence).where(DocumentSequence.kind == kind,
                                                         DocumentSequence.year == year)
                          .with_for_update().execution_options(populate_existing=True)).one()
    seq.last_number += 1
    session.flush()
    return seq.last_number
