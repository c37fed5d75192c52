"""Creating tenants and building their org trees. Each function validates everything first and
writes nothing when input is refused; the caller commits."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from jiuzhu.errors import ValidationError
from jiuzhu.plugins import PluginRegistry
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import PARENT_LEVEL, OrgLevel, OrgUnit, Tenant, TenantSettings

CODE_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
DIVISION_RE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


def validate_division_code(code: str | None, level: OrgLevel) -> str | None:
    code = (code or "").strip() or None
    if code is None:
        return None
    if not DIVISION_RE.match(code):
        raise ValidationError(f"区划代码“{code}”格式错误：应为 6 位（县）、9 位（乡镇）或 12 位数字。")
    return code


def create_tenant(session, registry: PluginRegistry, *, code: str, name: str, plugin_key: str,
                  division_code: str | None = None) -> Tenant:
    """A new county with its county-level root org unit, in the caller's transaction."""
    code = (code or "").strip().lower()
    name = (name or "").strip()
    errors = []
    if not CODE_RE.match(code):
        errors.append(f"县（区）代码“{code}”无效：须以小写字母开头，只含小写字母、数字和连字符，2–40 个字符。")
    if not name:
        errors.append("县（区）名称不能为空。")
    if plugin_key not in registry:
        errors.append(f"插件“{plugin_key}”未安装或未启用；可用插件：{'、'.join(registry.keys()) or '无'}。")
    try:
        division_code = validate_division_code(division_code, OrgLevel.county)
    except ValidationError as exc:
        errors.extend(exc.messages)
    if not errors and session.scalar(select(func.count()).select_from(Tenant).where(Tenant.code == code)):
        errors.append(f"县（区）代码“{code}”已被使用。")
    if errors:
        raise ValidationError(*errors)
    tenant = Tenant(code=code, name=name, plugin_key=plugin_key, division_code=division_code, active=True)
    session.add(tenant)
    session.flush()
    with use_scope(Scope(tenant.id)):
        session.add(OrgUnit(tenant_id=tenant.id, level=OrgLevel.county, name=name, division_code=division_code))
        session.add(TenantSettings(tenant_id=tenant.id, plugin_settings={}))
        session.flush()
    return tenant


def county_root(session) -> OrgUnit:
    return session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None))).one()


def add_org_unit(session, *, parent: OrgUnit, name: str, division_code: str | None = None) -> OrgUnit:
    """A township under the county or a village under a township, in the current tenant's scope."""
    name = (name or "").strip()
    if parent.level == OrgLevel.village:
        raise ValidationError(f"“{parent.name}”是村（社区），其下不能再设组织。")
    level = OrgLevel.township if parent.level == OrgLevel.county else OrgLevel.village
    assert PARENT_LEVEL[level] == parent.level
    errors = []
    if not name:
        errors.append("名称不能为空。")
    try:
        division_code = validate_division_code(division_code, level)
    except ValidationError as exc:
        errors.extend(exc.messages)
    if name and session.scalar(select(func.count()).select_from(OrgUnit)
                               .where(OrgUnit.parent_id == parent.id, OrgUnit.name == name)):
        errors.append(f"“{parent.name}”下已有名为“{name}”的单位。")
    if division_code and session.scalar(select(func.count()).select_from(OrgUnit)
                                        .where(OrgUnit.division_code == division_code)):
        errors.append(f"区划代码“{division_code}”已被本县的其他单位使用。")
    if errors:
        raise ValidationError(*errors)
    unit = OrgUnit(parent=parent, level=level, name=name, division_code=division_code)
    session.add(unit)
    session.flush()
    return unit


@dataclass(frozen=True)
class OrgRow:
    line: int
    township: str
    village: str | None
    township_code: str | None
    village_code: str | None


def import_org_tree(session, rows: list[OrgRow]) -> tuple[int, int]:
    """Add the townships and villages in ``rows`` (existing ones are matched by name and kept).

    Every row is checked before anything is written; one bad row refuses the whole file with a
    message per row. Returns (townships added, villages added).
    """
    errors: list[str] = []
    root = county_root(session)
    existing = {u.name: u for u in session.scalars(select(OrgUnit).where(OrgUnit.parent_id == root.id))}
    code_owner: dict[str, tuple[tuple[str, ...], int]] = {}  # division code → (unit, first line)
    planned_towns: dict[str, str | None] = {}
    planned_villages: dict[tuple[str, str], str | None] = {}
    for r in rows:
        if not r.township:
            errors.append(f"第 {r.line} 行：乡镇（街道）名称为空。")
            continue
        units = [((r.township,), r.township_code, OrgLevel.township)]
        if r.village:
            units.append(((r.township, r.village), r.village_code, OrgLevel.village))
        for unit, code, level in units:
            try:
                code = validate_division_code(code, level)
            except ValidationError as exc:
                errors.append(f"第 {r.line} 行：{exc.messages[0]}")
                continue
            if code is None:
                continue
            owner = code_owner.setdefault(code, (unit, r.line))
            if owner[0] != unit:
                errors.append(f"第 {r.line} 行：区划代码“{code}”与第 {owner[1]} 行的“{'·'.join(owner[0])}”重复。")
        prev = planned_towns.get(r.township)
        if r.township_code and prev and prev != r.township_code:
            errors.append(f"第 {r.line} 行：乡镇“{r.township}”的区划代码与前面的行不一致。")
        planned_towns[r.township] = r.township_code or prev
        if r.village:
            key = (r.township, r.village)
            if key in planned_villages:
                errors.append(f"第 {r.line} 行：“{r.township}·{r.village}”重复出现。")
            planned_villages[key] = r.village_code
    if errors:
        raise ValidationError(*errors)

    added_t = added_v = 0
    for town_name, town_code in planned_towns.items():
        if town_name not in existing:
            existing[town_name] = add_org_unit(session, parent=root, name=town_name, division_code=town_code)
            added_t += 1
    for (town_name, village_name), village_code in planned_villages.items():
        town = existing[town_name]
        known = session.scalar(select(OrgUnit).where(OrgUnit.parent_id == town.id, OrgUnit.name == village_name))
        if known is None:
            add_org_unit(session, parent=town, name=village_name, division_code=village_code)
            added_v += 1
    return added_t, added_v


# -- the county's places, for a case shared by two townships --------------------------------------

@dataclass(frozen=True)
class CountyPlace:
    """An active township or village of the current county, as plain values (never an ORM object of
    a wider scope in the caller's session)."""

    id: int
    name: str
    level: OrgLevel
    #: the township itself, or the village's township
    township_id: int
    township_name: str

    @property
    def full_name(self) -> str:
        return self.name if self.level == OrgLevel.township else f"{self.township_name} · {self.name}"


@dataclass(frozen=True)
class Place:
    id: int
    name: str


Village = Place

#: the townships or villages in a scope, by (database, scope, level, the county's org version): filled
#: on first use, never stale (a change to the county's org units sets its version anew, so the next
#: request reads them again)
_PLACES: dict[tuple, tuple[Place, ...]] = {}
_PLACES_KEPT = 4096


def places_in_scope(session, tenant: Tenant, level: OrgLevel) -> tuple[Place, ...]:
    """The townships or villages (``level``) the current scope sees (a township's own, all of a
    county's), by name: read once per version of the county's org tree (``Tenant.org_version``, read
    with the user) and kept in the process, by scope — a township's list is never another's."""
    from jiuzhu.tenancy.context import require_scope

    scope = require_scope()
    if scope.tenant_id != tenant.id:
        raise ValueError("a county's places are read in that county's scope")
    key = (session.get_bind().url, scope, level, tenant.org_version)
    found = _PLACES.get(key)
    if found is None:
        found = tuple(Place(i, n) for i, n in session.execute(
            select(OrgUnit.id, OrgUnit.name).where(OrgUnit.level == level).order_by(OrgUnit.name)))
        if len(_PLACES) >= _PLACES_KEPT:
            _PLACES.clear()
        _PLACES[key] = found
    return found


def villages_in_scope(session, tenant: Tenant) -> tuple[Place, ...]:
    """The villages the current scope sees, by name (see :func:`places_in_scope`)."""
    return places_in_scope(session, tenant, OrgLevel.village)


def county_of_request() -> Tenant | None:
    """The county read with the logged-in user in this request (its org version as of this
    request's transaction), when it is the current scope's county; else None (a job, the platform)."""
    from flask import g, has_request_context

    from jiuzhu.tenancy.context import current_scope

    if not has_request_context():
        return None
    tenant, scope = g.get("jiuzhu_tenant"), current_scope()
    return tenant if tenant is not None and scope is not None and scope.tenant_id == tenant.id else None


def county_places(session, level: OrgLevel, unit_id: int | None = None) -> list[CountyPlace]:
    """Every active township (or village) of the current county, whoever asks: a township picks the
    household's registered village (户籍所在地) or the emergency's township (急难发生地) among them.
    Read in the county's scope (same tenant, row-level security unchanged), names and ids only."""
    from sqlalchemy.orm import aliased

    from jiuzhu.tenancy.context import require_scope

    scope = require_scope()
    parent = aliased(OrgUnit)
    if level == OrgLevel.township:
        query = (select(OrgUnit.id, OrgUnit.name, OrgUnit.id, OrgUnit.name)
                 .where(OrgUnit.level == OrgLevel.township, OrgUnit.active.is_(True))
                 .order_by(OrgUnit.name, OrgUnit.id))
    else:
        query = (select(OrgUnit.id, OrgUnit.name, parent.id, parent.name)
                 .join(parent, parent.id == OrgUnit.parent_id)
                 .where(OrgUnit.level == OrgLevel.village, OrgUnit.active.is_(True), parent.active.is_(True))
                 .order_by(parent.name, OrgUnit.name, OrgUnit.id))
    if unit_id is not None:
        query = query.where(OrgUnit.id == unit_id)
    with use_scope(Scope(tenant_id=scope.tenant_id)):
        rows = session.execute(query).all()
    return [CountyPlace(r[0], r[1], level, r[2], r[3]) for r in rows]


def county_place(session, unit_id, level: OrgLevel, field: str) -> CountyPlace | None:
    """The active township (or village) ``unit_id`` of the current county, or a refusal naming
    ``field``; None for no value."""
    if unit_id in (None, ""):
        return None
    try:
        wanted = int(unit_id)
    except (TypeError, ValueError):
        wanted = None
    found = None
    if wanted is not None and 0 < wanted < 2**31:
        found = next(iter(county_places(session, level, wanted)), None)
    if found is None:
        what = "乡镇（街道）" if level == OrgLevel.township else "村（社区）"
        raise ValidationError(field_errors={field: [f"请从本县（区）的{what}中选择。"]})
    return found


def registered_village(session, plugin, unit_id, registered_place: str | None) -> CountyPlace | None:
    """The household's registered village (户籍所在地) among the county's, where the plugin shares a case
    with the registered township (景德镇 人户分离); a refusal naming the field otherwise."""
    if unit_id in (None, ""):
        return None
    if "registered" not in getattr(plugin, "shared_townships", ()):
        raise ValidationError(field_errors={"registered_unit_id": [
            "本地规则不由户籍所在地乡镇（街道）分担办理，请在“户籍所在地”中填写文字。"]})
    if (registered_place or "").strip():
        raise ValidationError(field_errors={"registered_place": [
            "户籍在本县（区）的，只选择户籍所在村（社区）；县外的，才填写户籍所在地。"]})
    return county_place(session, unit_id, OrgLevel.village, "registered_unit_id")
