"""The worklist's village filter (我的待办 · 全部村（社区）): read once per version of the county's
org tree and kept by scope — a change to the tree shows on the next page, and no township, county
or database ever sees another's list."""

from __future__ import annotations

import re

from sqlalchemy import select

from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgUnit, Tenant
from jiuzhu.tenancy.services import add_org_unit
from tests.test_statement_counts import counted


def villages_offered(client) -> list[str]:
    page = client.get("/admin/casework/").get_data(as_text=True)
    block = re.search(r'<select[^>]*name="village_id".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', block)


def test_the_village_filter_follows_the_org_tree_at_once_and_stays_in_its_scope(app, world, client_for):
    a = world.county("va", plugin="baseline", townships=2, villages=2)
    world.county("vb", plugin="baseline", townships=1, villages=2)
    staff, other, county, elsewhere = (client_for(u) for u in ("va-t1-staff", "va-t2-staff", "va-county",
                                                                 "vb-t1-staff"))
    assert villages_offered(staff) == ["va第1镇第1村", "va第1镇第2村"]
    assert villages_offered(other) == ["va第2镇第1村", "va第2镇第2村"]
    assert villages_offered(elsewhere) == ["vb第1镇第1村", "vb第1镇第2村"]
    assert villages_offered(county) == ["va第1镇第1村", "va第1镇第2村", "va第2镇第1村", "va第2镇第2村"]
    with counted(app) as seen:  # kept: the page reads no org units
        assert villages_offered(staff) == ["va第1镇第1村", "va第1镇第2村"]
    assert not any("FROM org_units" in s and "org_units.level" in s for s in seen), seen

    with app.app_context(), use_scope(Scope(a["id"])):
        version = db.session.get(Tenant, a["id"]).org_version
        town = db.session.get(OrgUnit, a["towns"][0])
        add_org_unit(db.session, parent=town, name="va第1镇新村")
        db.session.get(OrgUnit, a["villages"][0][1]).name = "va第1镇改名村"
        db.session.commit()
        assert db.session.scalar(select(Tenant.org_version).where(Tenant.id == a["id"])) != version
        db.session.remove()
    assert sorted(villages_offered(staff)) == sorted(["va第1镇新村", "va第1镇改名村", "va第1镇第1村"])
    assert villages_offered(other) == ["va第2镇第1村", "va第2镇第2村"]
    assert sorted(villages_offered(county)) == sorted(["va第1镇新村", "va第1镇改名村", "va第1镇第1村",
                                                       "va第2镇第1村", "va第2镇第2村"])
    assert villages_offered(elsewhere) == ["vb第1镇第1村", "vb第1镇第2村"]
