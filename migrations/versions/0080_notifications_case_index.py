"""index the notifications by case: a case removed (only when its county is purged) finds its
notifications without reading the whole county's

``notifications.case_id`` was left without an index for the reminder sweep's sake, which writes
notifications by the hundred thousand. Each case a purge deleted then read the county's (already
deleted) notifications once: 8,000 cases with 40,000 notifications took 5.7 s to purge against
3.1 s without them, growing with cases × notifications. Measured with ``bench/reminder_sweep.py``
(100 counties, 161,291 due reminders, one worker, alternating on one database), the sweep took
13.7 and 13.1 s without the index, 14.2 and 13.4 s with it: 2–4%.

Revision ID: 0080
Revises: 0079

"""
from alembic import op

revision = '0080'
down_revision = '0079'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_notifications_case', 'notifications', ['tenant_id', 'case_id'], unique=False)


def downgrade():
    op.drop_index('ix_notifications_case', table_name='notifications')
