"""households, cases, steps, notices

Revision ID: 0004
Revises: 0003

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

TENANT_TABLES = ("households", "household_members", "household_incomes", "household_properties",
                 "legal_supporters", "cases", "case_materials", "case_findings", "case_notices",
                 "document_sequences", "case_steps")


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document_sequences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_document_sequences_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_sequences')),
    sa.UniqueConstraint('tenant_id', 'kind', 'year', name=op.f('uq_document_sequences_tenant_id_kind_year'))
    )
    with op.batch_alter_table('document_sequences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_sequences_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('registered_unit_id', sa.Integer(), nullable=True),
    sa.Column('registered_place', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['registered_unit_id'], ['org_units.id'], name=op.f('fk_households_registered_unit_id_org_units')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_households_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['township_id'], ['org_units.id'], name=op.f('fk_households_township_id_org_units')),
    sa.ForeignKeyConstraint(['village_id'], ['org_units.id'], name=op.f('fk_households_village_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_township_id'), ['township_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_village_id'), ['village_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('application', 'review', name='casekind', native_enum=False, length=24), nullable=False),
    sa.Column('channel', sa.Enum('window', 'online', 'village_proxy', name='channel', native_enum=False, length=24), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending_acceptance', 'in_review', 'approved', 'denied', 'not_accepted', 'withdrawn', 'revoked', 'closed', name='casestatus', native_enum=False, length=24), nullable=False),
    sa.Column('plugin_key', sa.String(length=40), nullable=False),
    sa.Column('consent_classification', sa.Boolean(), nullable=False),
    sa.Column('authorization_signed_on', sa.Date(), nullable=True),
    sa.Column('commitment_signed_on', sa.Date(), nullable=True),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('round', sa.SmallInteger(), nullable=False),
    sa.Column('limit_workdays', sa.SmallInteger(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('extension_reason', sa.Text(), nullable=True),
    sa.Column('paused_workdays', sa.SmallInteger(), nullable=False),
    sa.Column('priority', sa.Boolean(), nullable=False),
    sa.Column('priority_reason', sa.String(length=200), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('monthly_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('benefit_start', sa.Date(), nullable=True),
    sa.Column('referral', sa.Text(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('review_of_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_cases_household_id_households')),
    sa.ForeignKeyConstraint(['review_of_id'], ['cases.id'], name=op.f('fk_cases_review_of_id_cases')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_cases_submitted_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_cases_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['township_id'], ['org_units.id'], name=op.f('fk_cases_township_id_org_units')),
    sa.ForeignKeyConstraint(['village_id'], ['org_units.id'], name=op.f('fk_cases_village_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_review_of_id'), ['review_of_id'], unique=False)
        batch_op.create_index('ix_cases_tenant_applied', ['tenant_id', 'applied_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_cases_tenant_township_status', ['tenant_id', 'township_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_township_id'), ['township_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_village_id'), ['village_id'], unique=False)

    op.create_table('household_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=6), nullable=False),
    sa.Column('relation', sa.Enum('head', 'spouse', 'child', 'parent', 'grandchild', 'grandparent', 'sibling', 'other', name='relation', native_enum=False, length=16), nullable=False),
    sa.Column('coresident', sa.Boolean(), nullable=False),
    sa.Column('disability_grade', sa.SmallInteger(), nullable=False),
    sa.Column('health', sa.Enum('healthy', 'chronic', 'serious', name='health', native_enum=False, length=16), nullable=False),
    sa.Column('work_ability', sa.Enum('full', 'partial', 'none', name='workability', native_enum=False, length=16), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_members_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_household_members_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_members'))
    )
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_members_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_members_id_number'), ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_members_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('household_properties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_properties_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_household_properties_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_properties'))
    )
    with op.batch_alter_table('household_properties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_properties_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_properties_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('case_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('tekun', 'dibao', 'dibao_edge', 'rigid_expense', 'low_income_other', 'temporary_relief', 'elderly_low_income', name='category', native_enum=False, length=24), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('finding', sa.Enum('eligible', 'ineligible', name='finding', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_findings_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_case_findings_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_findings')),
    sa.UniqueConstraint('case_id', 'category', name=op.f('uq_case_findings_case_id_category'))
    )
    with op.batch_alter_table('case_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_findings_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_findings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('case_materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('provided', sa.Boolean(), nullable=False),
    sa.Column('via_platform', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_materials_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_case_materials_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_materials'))
    )
    with op.batch_alter_table('case_materials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_materials_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_materials_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('case_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notices_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_case_notices_issued_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_case_notices_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notices')),
    sa.UniqueConstraint('tenant_id', 'kind', 'number', name=op.f('uq_case_notices_tenant_id_kind_number'))
    )
    with op.batch_alter_table('case_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_notices_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_notices_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('case_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('round', sa.SmallInteger(), nullable=False),
    sa.Column('level', sa.Enum('county', 'township', 'village', name='orglevel', native_enum=False, length=16), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', 'skipped', 'cancelled', name='stepstatus', native_enum=False, length=16), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('runs_until', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_steps_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_steps_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_case_steps_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['township_id'], ['org_units.id'], name=op.f('fk_case_steps_township_id_org_units')),
    sa.ForeignKeyConstraint(['village_id'], ['org_units.id'], name=op.f('fk_case_steps_village_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_steps'))
    )
    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_steps_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_steps_open_due', ['tenant_id', 'township_id', 'level', 'due_on', 'id'], unique=False, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.create_index('ix_case_steps_open_level_due', ['tenant_id', 'level', 'due_on', 'id'], unique=False, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.create_index(batch_op.f('ix_case_steps_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('household_incomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('wage', 'business', 'asset', 'transfer', 'basic_pension', 'other_pension', 'support', name='incomekind', native_enum=False, length=24), nullable=False),
    sa.Column('monthly_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_incomes_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['household_members.id'], name=op.f('fk_household_incomes_member_id_household_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_household_incomes_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_incomes'))
    )
    with op.batch_alter_table('household_incomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_incomes_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_incomes_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('legal_supporters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('duty', sa.String(length=8), nullable=False),
    sa.Column('supported_member_id', sa.Integer(), nullable=True),
    sa.Column('monthly_income', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('monthly_support_paid', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_legal_supporters_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supported_member_id'], ['household_members.id'], name=op.f('fk_legal_supporters_supported_member_id_household_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_legal_supporters_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_supporters'))
    )
    with op.batch_alter_table('legal_supporters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_supporters_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_supporters_tenant_id'), ['tenant_id'], unique=False)

    rls.grant_app_access(op, *TENANT_TABLES)
    for table in TENANT_TABLES:
        rls.enable_tenant_rls(op, table)


def downgrade():
    with op.batch_alter_table('legal_supporters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_supporters_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_legal_supporters_household_id'))

    op.drop_table('legal_supporters')
    with op.batch_alter_table('household_incomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_incomes_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_household_incomes_household_id'))

    op.drop_table('household_incomes')
    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_steps_tenant_id'))
        batch_op.drop_index('ix_case_steps_open_level_due', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_case_steps_open_due', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_case_steps_case_id'))

    op.drop_table('case_steps')
    with op.batch_alter_table('case_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_notices_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_case_notices_case_id'))

    op.drop_table('case_notices')
    with op.batch_alter_table('case_materials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_materials_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_case_materials_case_id'))

    op.drop_table('case_materials')
    with op.batch_alter_table('case_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_findings_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_case_findings_case_id'))

    op.drop_table('case_findings')
    with op.batch_alter_table('household_properties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_properties_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_household_properties_household_id'))

    op.drop_table('household_properties')
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_members_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_household_members_id_number'))
        batch_op.drop_index(batch_op.f('ix_household_members_household_id'))

    op.drop_table('household_members')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_village_id'))
        batch_op.drop_index(batch_op.f('ix_cases_township_id'))
        batch_op.drop_index('ix_cases_tenant_township_status')
        batch_op.drop_index(batch_op.f('ix_cases_tenant_id'))
        batch_op.drop_index('ix_cases_tenant_applied')
        batch_op.drop_index(batch_op.f('ix_cases_review_of_id'))
        batch_op.drop_index(batch_op.f('ix_cases_household_id'))

    op.drop_table('cases')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_village_id'))
        batch_op.drop_index(batch_op.f('ix_households_township_id'))
        batch_op.drop_index(batch_op.f('ix_households_tenant_id'))

    op.drop_table('households')
    with op.batch_alter_table('document_sequences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_sequences_tenant_id'))

    op.drop_table('document_sequences')
