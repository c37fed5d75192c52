"""the access log of personal information (PIPL): append-only, under row-level security, purged
only past the instance's retention (never by a county, never younger than six months)

Revision ID: 0020
Revises: 0019

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('personal_data_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_name', sa.String(length=120), nullable=False),
    sa.Column('user_role', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('view_id_number', 'view_household', 'view_case', 'download_case_file', 'download_notice', 'download_material', 'export_list', name='accesskind', native_enum=False, length=24), nullable=False),
    sa.Column('subject_type', sa.String(length=24), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_personal_data_access_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_personal_data_access_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_access'))
    )
    with op.batch_alter_table('personal_data_access', schema=None) as batch_op:
        batch_op.create_index('ix_personal_data_access_tenant_at', ['tenant_id', 'at'], unique=False)
        batch_op.create_index('ix_personal_data_access_user_at', ['tenant_id', 'user_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_personal_data_access_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_personal_data_access_tenant_id'), ['tenant_id'], unique=False)
    rls.grant_app_only(op, 'personal_data_access', 'SELECT, INSERT')
    rls.enable_tenant_rls(op, 'personal_data_access')
    if op.get_bind().dialect.name == "postgresql":
        # the only way rows go: past the retention, and never younger than 183 days, whoever asks
        op.execute("""
            CREATE OR REPLACE FUNCTION jiuzhu_purge_access_log(older_than_days int) RETURNS bigint
            LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
            AS $$
            DECLARE removed bigint;
            BEGIN
              IF older_than_days < 183 THEN
                RAISE EXCEPTION 'access log is kept at least 183 days (asked: %)', older_than_days;
              END IF;
              DELETE FROM personal_data_access WHERE at < now() - make_interval(days => older_than_days);
              GET DIAGNOSTICS removed = ROW_COUNT;
              RETURN removed;
            END $$""")
        owner = op.get_bind().execute(sa.text("SELECT current_user")).scalar()
        op.execute("DROP POLICY IF EXISTS retention_purge ON personal_data_access")
        op.execute(f"CREATE POLICY retention_purge ON personal_data_access FOR DELETE "
                   f"USING (current_user = {rls._quote_literal(op, owner)})")
        op.execute("REVOKE ALL ON FUNCTION jiuzhu_purge_access_log(int) FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION jiuzhu_purge_access_log(int) TO {rls.app_role()}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS jiuzhu_purge_access_log(int)")
    op.drop_table('personal_data_access')
