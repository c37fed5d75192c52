"""Central ORM scoping and PostgreSQL row-level security."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update

from jiuzhu.auth.models import User
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import (
    CrossTenantWriteError,
    NoScopeError,
    OutOfOrgScopeError,
    Scope,
    use_scope,
)
from jiuzhu.tenancy.models import OrgLevel, OrgUnit, Tenant
from tests.conftest import signed_tenant


@pytest.fixture
def two(world):
    return world.county("aa"), world.county("bb")


def test_query_on_tenant_owned_model_without_scope_raises(ctx, two):
    with pytest.raises(NoScopeError):
        db.session.scalars(select(OrgUnit)).all()
    with pytest.raises(NoScopeError):
        db.session.get(User, two[0]["users"]["aa-admin"])


def test_tenant_table_joined_without_scope_yields_nothing(ctx, two):
    rows = db.session.execute(select(Tenant.code).join(OrgUnit, OrgUnit.tenant_id == Tenant.id)).all()
    assert rows == []


def test_each_tenant_sees_only_its_rows(ctx, two):
    a, b = two
    with use_scope(Scope(a["id"])):
        units = db.session.scalars(select(OrgUnit)).all()
        assert {u.tenant_id for u in units} == {a["id"]}
        assert db.session.get(OrgUnit, b["root"]) is None
        assert db.session.get(User, b["users"]["bb-admin"]) is None


def test_bulk_update_and_delete_are_scoped(ctx, two):
    a, b = two
    with use_scope(Scope(a["id"])):
        db.session.execute(update(User).values(phone="110"))
        db.session.execute(delete(User).where(User.role == "village_assistant"))
        db.session.commit()
    with use_scope(Scope(b["id"])):
        users = db.session.scalars(select(User)).all()
        assert all(u.phone is None for u in users)
        assert any(u.role == "village_assistant" for u in users)


def test_writing_a_row_of_another_tenant_raises(ctx, two):
    a, b = two
    with use_scope(Scope(a["id"])):
        with pytest.raises(CrossTenantWriteError):
            db.session.add(OrgUnit(tenant_id=b["id"], parent_id=b["root"], level=OrgLevel.township, name="x"))
            db.session.flush()
        db.session.rollback()
        unit = db.session.get(OrgUnit, a["towns"][0])
        unit.tenant_id = b["id"]
        with pytest.raises(CrossTenantWriteError):
            db.session.flush()
        db.session.rollback()


def test_new_rows_get_the_current_tenant(ctx, two):
    a, _ = two
    with use_scope(Scope(a["id"])):
        unit = OrgUnit(parent_id=a["root"], level=OrgLevel.township, name="新镇")
        db.session.add(unit)
        db.session.commit()
        assert unit.tenant_id == a["id"]


def test_township_scope_sees_its_township_and_villages(ctx, two):
    a, _ = two
    t1, t2 = a["towns"]
    with use_scope(Scope(a["id"], township_id=t1)):
        ids = set(db.session.scalars(select(OrgUnit.id)))
        assert ids == {t1, *a["villages"][0]}
        names = set(db.session.scalars(select(User.username)))
        assert names == {"aa-t1-staff", "aa-t1-leader", "aa-t1-village"}
        assert db.session.get(OrgUnit, t2) is None


def test_village_scope_sees_its_village(ctx, two):
    a, _ = two
    v = a["villages"][0][0]
    with use_scope(Scope(a["id"], township_id=a["towns"][0], village_id=v)):
        assert set(db.session.scalars(select(OrgUnit.id))) == {v}
        assert set(db.session.scalars(select(User.username))) == {"aa-t1-village"}


def test_scopes_share_compiled_sql_yet_each_reads_with_its_own_ids(ctx, two):
    """A scope's criteria work out their part of a statement's cache key once (``ScopeCriteria``):
    townships (and counties) of the same shape share one compiled statement, each bringing its own
    ids; a village's, a township's and a county's criteria never share one. Read in turn, every
    scope still sees exactly its own rows, whichever compiled the statement first."""
    from jiuzhu.tenancy.scoping import _tenant_options

    a, b = two
    (t1, t2), v = a["towns"], a["villages"][0][0]
    scopes = {"county a": Scope(a["id"]), "county b": Scope(b["id"]), "t1": Scope(a["id"], township_id=t1),
              "t2": Scope(a["id"], township_id=t2), "village": Scope(a["id"], township_id=t1, village_id=v),
              "b t1": Scope(b["id"], township_id=b["towns"][0])}
    keys = {name: select(OrgUnit.id).options(*_tenant_options(scope))._generate_cache_key()
            for name, scope in scopes.items()}
    for _ in range(2):  # worked out once, then reused: the same answer
        again = select(OrgUnit.id).options(*_tenant_options(scopes["t2"]))._generate_cache_key()
        assert again == keys["t2"]
        assert [p.value for p in again.bindparams] == [p.value for p in keys["t2"].bindparams]
    assert keys["t1"].key == keys["t2"].key == keys["b t1"].key
    assert keys["county a"].key == keys["county b"].key
    assert len({keys["county a"].key, keys["t1"].key, keys["village"].key}) == 3
    values = {name: {p.value for p in k.bindparams} for name, k in keys.items()}
    assert t1 in values["t1"] and t2 not in values["t1"] and t2 in values["t2"]
    assert b["id"] in values["b t1"] and a["id"] not in values["b t1"]
    expected = {"t1": {t1, *a["villages"][0]}, "t2": {t2, *a["villages"][1]}, "village": {v}}
    for order in (("t1", "t2", "village"), ("village", "t2", "t1")):
        for name in order:
            with use_scope(scopes[name]):
                assert set(db.session.scalars(select(OrgUnit.id))) == expected[name], name
            db.session.rollback()


def test_township_cannot_write_outside_its_township(ctx, two):
    a, _ = two
    t1, t2 = a["towns"]
    with use_scope(Scope(a["id"], township_id=t1)):
        db.session.add(OrgUnit(parent_id=t2, level=OrgLevel.village, name="越界村"))
        with pytest.raises(OutOfOrgScopeError):
            db.session.flush()
        db.session.rollback()


def test_platform_scope_sees_only_platform_users(ctx, world, two):
    world.operator()
    with use_scope(Scope.platform()):
        assert db.session.scalars(select(User.username)).all() == ["operator"]
        assert db.session.scalars(select(OrgUnit)).all() == []


# -- PostgreSQL row-level security, the second wall ------------------------------------------------

def test_raw_sql_as_application_role_returns_only_current_tenant(app_engine, two):
    a, b = two
    with app_engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(a["id"])})
        for table in ("org_units", "users"):
            tenants = set(conn.execute(text(f"SELECT DISTINCT tenant_id FROM {table}")).scalars())
            assert tenants == {a["id"]}, table
    with app_engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM org_units")).scalar() == 0  # no tenant set


def test_rls_rejects_insert_for_another_tenant(app_engine, two):
    a, b = two
    with app_engine.connect() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(a["id"])})
        with pytest.raises(Exception, match="row-level security"):
            conn.execute(text("INSERT INTO org_units (tenant_id, parent_id, level, name, active) "
                              "VALUES (:b, :root, 'township', 'x', true)"), {"b": b["id"], "root": b["root"]})
        conn.rollback()


def test_application_role_cannot_bypass_rls(app_engine):
    with app_engine.connect() as conn:
        row = conn.execute(text(
            "SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user")).one()
        assert row == (False, False)
        owners = set(conn.execute(text(
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars())
        assert conn.execute(text("SELECT current_user")).scalar() not in owners


def test_every_table_with_tenant_id_has_forced_rls(owner_engine, app):
    with owner_engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
            FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'""")).all()
    assert rows, "no tenant-owned tables found"
    assert [r.relname for r in rows if not (r.relrowsecurity and r.relforcerowsecurity)] == []


def test_count_is_scoped(ctx, two):
    a, b = two
    with use_scope(Scope(a["id"])):
        n_a = db.session.scalar(select(func.count()).select_from(User))
    with use_scope(Scope(b["id"])):
        n_b = db.session.scalar(select(func.count()).select_from(User))
    assert n_a == n_b == 8


# -- the identity map never carries an object across scopes -------------------------------------

def test_an_object_loaded_in_one_tenant_is_not_found_by_get_in_another(ctx, two):
    a, b = two
    with use_scope(Scope(a["id"])):
        unit = db.session.get(OrgUnit, a["villages"][0][0])
        assert unit is not None  # now in the identity map
        user = db.session.get(User, a["users"]["aa-admin"])
    with use_scope(Scope(b["id"])):
        assert db.session.get(OrgUnit, a["villages"][0][0]) is None
        assert db.session.get(User, a["users"]["aa-admin"]) is None
    with use_scope(Scope.platform()):
        assert db.session.get(OrgUnit, a["villages"][0][0]) is None
    with use_scope(Scope(a["id"])):  # back home, found again (and the same object)
        assert db.session.get(OrgUnit, a["villages"][0][0]) is unit
        assert db.session.get(User, a["users"]["aa-admin"]) is user


def test_an_object_loaded_county_wide_is_not_found_by_get_in_a_narrower_scope(ctx, two):
    a, _ = two
    other_town, other_village = a["towns"][1], a["villages"][1][0]
    with use_scope(Scope(a["id"])):  # held: the identity map keeps only objects someone holds
        held = [db.session.get(OrgUnit, other_village), db.session.get(OrgUnit, other_town),
                db.session.get(User, a["users"]["aa-t2-staff"]), db.session.get(OrgUnit, a["villages"][0][1])]
        assert all(held)
    with use_scope(Scope(a["id"], township_id=a["towns"][0])):
        assert db.session.get(OrgUnit, other_village) is None
        assert db.session.get(OrgUnit, other_town) is None
        assert db.session.get(User, a["users"]["aa-t2-staff"]) is None
        assert db.session.get(OrgUnit, a["villages"][0][0]) is not None  # its own village still is
    with use_scope(Scope(a["id"], township_id=a["towns"][0], village_id=a["villages"][0][0])):
        assert db.session.get(OrgUnit, a["villages"][0][1]) is None


def test_a_lazy_load_does_not_reach_through_the_identity_map_into_another_scope(ctx, two):
    a, _ = two
    with use_scope(Scope(a["id"])):
        village_staff = db.session.get(User, a["users"]["aa-t2-village"])
        unit = village_staff.org_unit  # loaded and held: now in the identity map
        assert unit is not None
        db.session.expire(village_staff, ["org_unit"])
    with use_scope(Scope(a["id"], township_id=a["towns"][0])):
        # the user object was held across the switch; its unit lies in another township
        assert village_staff.org_unit is None
    assert unit is not None


def test_an_expired_object_of_another_tenant_is_not_found_rather_than_failing(ctx, two):
    a, b = two
    with use_scope(Scope(a["id"])):
        root = db.session.get(OrgUnit, a["root"])
        assert root is not None
        db.session.commit()  # expires everything
    with use_scope(Scope(b["id"])):
        assert db.session.get(OrgUnit, a["root"]) is None
    assert root is not None


# -- the tenant handed to PostgreSQL cannot be forged by the application role ---------------------

@pytest.mark.parametrize("forged", [
    lambda a, b: str(b["id"]),                                           # the old plain form
    lambda a, b: f"{b['id']}:" + "0" * 64,                               # a made-up signature
    lambda a, b: signed_tenant(b["id"], secret="another instance's secret"),  # signed with another key
    lambda a, b: signed_tenant(a["id"]).replace(f"{a['id']}:", f"{b['id']}:", 1),  # A's signature on B
    lambda a, b: "platform:" + "0" * 64,
    lambda a, b: "' OR 1=1 --",
])
def test_an_sql_injection_cannot_enter_another_county_by_setting_the_tenant(app_engine, two, forged):
    """As the application role (what an SQL injection runs as), setting ``app.tenant_id`` to
    anything but this application's signature of a county shows no row of any county."""
    a, b = two
    with app_engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": forged(a, b)})
        for table in ("org_units", "users", "audit_events"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table
        assert conn.execute(text("SELECT jiuzhu_current_tenant()")).scalar() is None
    with app_engine.begin() as conn:  # the genuine signature still works
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(b["id"])})
        assert set(conn.execute(text("SELECT DISTINCT tenant_id FROM org_units")).scalars()) == {b["id"]}


def test_the_application_role_cannot_read_the_key_nor_see_platform_rows_unsigned(app_engine, world, two):
    world.operator("rls-operator")
    with app_engine.begin() as conn, pytest.raises(Exception, match="permission denied"):
        conn.execute(text("SELECT key FROM jiuzhu_rls_key"))
    with app_engine.begin() as conn:  # no setting, or an empty one: not the platform either
        assert conn.execute(text("SELECT count(*) FROM users WHERE tenant_id IS NULL")).scalar() == 0
    with app_engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(None, platform=True)})
        assert conn.execute(text("SELECT count(*) FROM users WHERE tenant_id IS NULL")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM users WHERE tenant_id IS NOT NULL")).scalar() == 0


def test_every_tenant_policy_checks_the_signature(owner_engine, app):
    with owner_engine.connect() as conn:
        quals = conn.execute(text(
            "SELECT tablename, qual FROM pg_policies WHERE policyname = 'tenant_isolation'")).all()
    assert len(quals) > 20
    assert all("jiuzhu_current_tenant()" in q and "current_setting" not in q for _, q in quals), quals


def test_a_countys_settings_and_the_login_attempts_are_out_of_an_injections_reach(app_engine, two, app):
    a, b = two
    app.test_client().post("/login", data={"username": "someone", "password": "x"})  # (refused: no CSRF)
    with app_engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(a["id"])})
        assert set(conn.execute(text("SELECT tenant_id FROM tenant_settings")).scalars()) == {a["id"]}
        columns = list(conn.execute(text("SELECT * FROM tenants LIMIT 1")).keys())
        assert "plugin_settings" not in columns
    with app_engine.begin() as conn, pytest.raises(Exception, match="permission denied"):
        conn.execute(text("SELECT username FROM login_attempts"))
    with app_engine.begin() as conn, pytest.raises(Exception, match="permission denied"):
        conn.execute(text("DELETE FROM login_attempts"))


def test_after_a_change_of_secret_the_operator_rewrites_the_rls_key(database_urls, app):
    """With a new JIUZHU_SECRET_KEY the application's signatures fail (it would see no rows);
    ``flask tenants rls-key`` as the owner puts the matching key in place — and back again."""
    from tests.conftest import make_app

    rotated = make_app(database_urls, SECRET_KEY="a-new-secret-after-rotation")
    from jiuzhu.extensions import db as db_
    from jiuzhu.tenancy.rls import rls_key_matches

    with rotated.app_context():
        assert not rls_key_matches(db_.session)
        result = rotated.test_cli_runner().invoke(args=["tenants", "rls-key"])
        assert result.exit_code == 0 and "可以通过校验" in result.output
        assert rls_key_matches(db_.session)
        db_.session.remove()
    with app.app_context():
        assert not rls_key_matches(db_.session)
        assert app.test_cli_runner().invoke(args=["tenants", "rls-key"]).exit_code == 0
        assert rls_key_matches(db_.session)
        db_.session.remove()
