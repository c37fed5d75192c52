"""a member's name is also found by one character: each name keeps, besides its pairs of adjacent
characters, its last character alone, and the keys sort by code point (``COLLATE "C"``)

案件查询 looked up a name's part of two characters or more by its pairs (0077); one character (a
surname typed alone, 王 or 禤) still read the names — the county's cases newest first under
row-level security until the page was full: 0.64 s for a township's staff and 1.7 s for the
county's at 1,000,000 cases when no name had the character.

Every character of a name starts one of its keys: a pair (``王小明``: ``王小``, ``小明``) or, the last
one, the key of that character alone (``明``). With the keys in code-point order, the members whose
name has the character ``c`` are those with a key in ``[c, c+1)`` — one range of the btree
``(tenant_id, gram)``, reached by ``text >=`` and ``text <`` (leakproof, so row-level security lets
the index serve them). A pair search is unchanged: its keys are the pairs, two characters long.

The collation makes no difference to which keys are equal (byte equality either way), only to
their order. Names of one character, which had no pair, now have a key.

Revision ID: 0082
Revises: 0081

"""
from alembic import op

revision = '0082'
down_revision = '0081'
branch_labels = None
depends_on = None

#: the keys of the names of ``{rows}`` (a table or transition table aliased ``m``, filtered by
#: ``{where}``): from each character, the two characters there (the last: itself alone)
KEYS = """
    SELECT DISTINCT m.tenant_id, substr(m.name, i, 2), m.id, m.household_id
      FROM {rows} m CROSS JOIN LATERAL generate_series(1, char_length(m.name){last}) AS i
     WHERE {where}"""
INSERT = "INSERT INTO member_name_grams (tenant_id, gram, member_id, household_id)"
CHANGED = ("EXISTS (SELECT 1 FROM old_rows o WHERE o.id = m.id AND "
           "(o.name IS DISTINCT FROM m.name OR o.household_id IS DISTINCT FROM m.household_id))")


def function(last: str) -> str:
    """The trigger function of 0077 with ``last`` ('' here, ' - 1' as in 0077) ending the series."""
    return f"""
CREATE OR REPLACE FUNCTION jiuzhu_member_name_grams_apply() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {INSERT} {KEYS.format(rows="new_rows", where="true", last=last)};
  ELSE
    DELETE FROM member_name_grams g USING new_rows m
     WHERE g.tenant_id = m.tenant_id AND g.member_id = m.id AND {CHANGED};
    {INSERT} {KEYS.format(rows="new_rows", where=CHANGED, last=last)};
  END IF;
  RETURN NULL;
END $$"""


def _collate(collation: str) -> None:
    op.execute(f'ALTER TABLE member_name_grams ALTER COLUMN gram TYPE varchar(2) COLLATE "{collation}"')


PRIMARY_KEY = "pk_member_name_grams"
MEMBER_INDEX = "ix_member_name_grams_member"

#: the last character of the members there already, county by county under the county's own signed
#: setting (made here with the database's key), so that row-level security lets the owner read the
#: county's members and write their keys — without lifting FORCE ROW LEVEL SECURITY from
#: ``household_members``, which would lock it, reads too, until the upgrade commits
LAST_CHARACTERS = f"""
DO $$
DECLARE t int;
BEGIN
  FOR t IN SELECT id FROM tenants ORDER BY id LOOP
    PERFORM set_config('app.tenant_id',
                       t || ':' || encode(hmac(t::text::bytea, (SELECT key FROM jiuzhu_rls_key), 'sha256'), 'hex'),
                       true);
    {INSERT} SELECT m.tenant_id, substr(m.name, char_length(m.name), 1), m.id, m.household_id
      FROM household_members m WHERE m.tenant_id = t AND char_length(m.name) > 0;
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
END $$"""


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # the demo's SQLite keeps no keys: its search reads the names
    op.execute(function(last=''))
    # the keys' indexes made anew once the rows are in (one sort each, not an entry for each of a
    # county's members), and without them the collation changes without rewriting the table. Only the
    # keys are locked meanwhile (adding or renaming a member waits; pages that read members do not):
    # at 2,000,000 members 24–25 s, against 39 s keeping the indexes while inserting.
    op.drop_constraint(PRIMARY_KEY, 'member_name_grams', type_='primary')
    op.drop_index(MEMBER_INDEX, table_name='member_name_grams')
    _collate('C')
    op.execute(LAST_CHARACTERS)
    op.create_primary_key(PRIMARY_KEY, 'member_name_grams', ['tenant_id', 'gram', 'member_id'])
    op.create_index(MEMBER_INDEX, 'member_name_grams', ['tenant_id', 'member_id'])
    op.execute("ANALYZE member_name_grams")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(function(last=' - 1'))
    op.execute("ALTER TABLE member_name_grams NO FORCE ROW LEVEL SECURITY")
    op.execute("DELETE FROM member_name_grams WHERE char_length(gram) = 1")
    op.execute("ALTER TABLE member_name_grams FORCE ROW LEVEL SECURITY")
    _collate('default')
