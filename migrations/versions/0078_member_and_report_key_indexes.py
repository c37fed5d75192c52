"""index the keys by which a member's, a case's or a household's removal finds the rows that point at it

Removing a member deletes its incomes and duplicate checks and clears it from the legal supporters
(foreign keys ``ON DELETE CASCADE`` / ``SET NULL``); removing a case or a household checks that no
real-name report names it. None of those columns had an index: PostgreSQL read the whole table —
every county's incomes — once per member removed. Purging a county of 8,000 cases spent 26 s in the
delete of its 32,000 members, most of it reading ``household_incomes`` again and again; it grew with
the square of the county.

Revision ID: 0078
Revises: 0077

"""
from alembic import op

revision = '0078'
down_revision = '0077'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_household_incomes_member", "household_incomes", ["tenant_id", "member_id"]),
    ("ix_legal_supporters_supported_member", "legal_supporters", ["tenant_id", "supported_member_id"]),
    ("ix_duplicate_resolutions_member", "duplicate_resolutions", ["tenant_id", "member_id"]),
    ("ix_duplicate_findings_member", "duplicate_findings", ["tenant_id", "member_id"]),
    ("ix_realname_reports_household", "realname_reports", ["tenant_id", "household_id"]),
    ("ix_realname_reports_case", "realname_reports", ["tenant_id", "case_id"]),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
