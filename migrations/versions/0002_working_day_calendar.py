"""working-day calendar: published years and their exceptions, seeded 2004–2026

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 11:00:00.000000

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

from jiuzhu.calendar.seed import SEED_YEARS, chinesecalendar_days, chinesecalendar_note
from jiuzhu.tenancy import rls


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    years = op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.Enum('chinesecalendar', 'operator', name='calendar_source', native_enum=False, length=20), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entered_by', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )
    exceptions = op.create_table('calendar_exceptions',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['year'], ['calendar_years.year'], name=op.f('fk_calendar_exceptions_year_calendar_years'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_exceptions'))
    )
    with op.batch_alter_table('calendar_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_exceptions_year'), ['year'], unique=False)

    # Global tables: the application role reads them, the operator's commands write them; no RLS.
    rls.grant_app_access(op, "calendar_years", "calendar_exceptions")

    # Seed 2004–2026 from chinesecalendar, one multi-row INSERT per table.
    now, note = dt.datetime.now(dt.UTC), chinesecalendar_note()
    op.execute(sa.insert(years).values([
        {"year": year, "source": "chinesecalendar", "entered_at": now, "entered_by": "chinesecalendar", "note": note}
        for year in SEED_YEARS]))
    op.execute(sa.insert(exceptions).values([
        {"day": d.day, "is_workday": d.is_workday, "name": d.name, "year": d.year}
        for d in chinesecalendar_days(SEED_YEARS)]))


def downgrade():
    with op.batch_alter_table('calendar_exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_exceptions_year'))

    op.drop_table('calendar_exceptions')
    op.drop_table('calendar_years')
