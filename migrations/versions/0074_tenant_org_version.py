"""a county's org tree has a version (``tenants.org_version``), set anew by triggers in the same
transaction as any change to the county's org units: lists of places read once are kept by it
(the worklist's village filter) and read again only when the tree changed. The new version is the
writing transaction's id (PostgreSQL; never the same twice in a cluster, even after tables are
emptied and sequences restarted) or a random number (the demo's SQLite): it says "changed", not
"how often".

Revision ID: 0074
Revises: 0072

"""
import sqlalchemy as sa
from alembic import op

revision = '0074'
down_revision = '0072'
branch_labels = None
depends_on = None

FUNCTION = """
    CREATE OR REPLACE FUNCTION jiuzhu_org_version_renew() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        UPDATE tenants SET org_version = txid_current() WHERE id IN (SELECT tenant_id FROM new_rows);
      ELSIF TG_OP = 'DELETE' THEN
        UPDATE tenants SET org_version = txid_current() WHERE id IN (SELECT tenant_id FROM old_rows);
      ELSE
        UPDATE tenants SET org_version = txid_current()
          WHERE id IN (SELECT tenant_id FROM new_rows UNION SELECT tenant_id FROM old_rows);
      END IF;
      RETURN NULL;
    END $$"""


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org_version', sa.BigInteger(), server_default='0', nullable=False,
                                      comment='Set anew by triggers with every change to the county\'s org units'))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)
        op.execute("""CREATE TRIGGER org_version_insert AFTER INSERT ON org_units REFERENCING NEW TABLE AS new_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_org_version_renew()""")
        op.execute("""CREATE TRIGGER org_version_update AFTER UPDATE ON org_units
                      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_org_version_renew()""")
        op.execute("""CREATE TRIGGER org_version_delete AFTER DELETE ON org_units REFERENCING OLD TABLE AS old_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_org_version_renew()""")
        return
    # the demo's SQLite: a trigger per row
    op.execute("""CREATE TRIGGER org_version_insert AFTER INSERT ON org_units BEGIN
                    UPDATE tenants SET org_version = abs(random()) WHERE id = NEW.tenant_id; END""")
    op.execute("""CREATE TRIGGER org_version_update AFTER UPDATE ON org_units BEGIN
                    UPDATE tenants SET org_version = abs(random()) WHERE id IN (NEW.tenant_id, OLD.tenant_id); END""")
    op.execute("""CREATE TRIGGER org_version_delete AFTER DELETE ON org_units BEGIN
                    UPDATE tenants SET org_version = abs(random()) WHERE id = OLD.tenant_id; END""")


def downgrade():
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS org_version_{event}" +
                   (" ON org_units" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS jiuzhu_org_version_renew()")
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('org_version')
