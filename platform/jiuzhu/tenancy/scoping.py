"""Central ORM scoping: every ORM statement and every flush passes through here.

* ``do_orm_execute`` adds ``with_loader_criteria`` for the current tenant (and township/village)
  to every SELECT, UPDATE and DELETE — list, detail, ``Session.get``, relationship loads, relation
  dropdowns and ajax loaders alike — and raises when a tenant-owned model is queried with no scope.
* ``before_flush`` fills ``tenant_id`` on new rows and rejects writes to another tenant's rows,
  moves between tenants, and writes outside the user's township or village.
* On PostgreSQL the tenant id is also handed to the database (``app.tenant_id``, transaction-local)
  where row-level security enforces it a second time.
* The identity map never carries an object across scopes. ``Session.get`` and many-to-one lazy
  loads look in the identity map before (instead of) running SQL, so no criteria would apply to
  them. Every tenant-owned object is therefore stamped with the scope it was loaded, refreshed or
  flushed in; an identity-map hit stamped with another scope is ignored and the SQL — with the
  current scope's criteria — decides. An object of another county (or township, or village) is
  then simply not found, as if the map had never held it.
"""

from __future__ import annotations

from functools import lru_cache

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, false, inspect, text
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.util import LoaderCriteriaOption
from sqlalchemy.sql.cache_key import NO_CACHE
from sqlalchemy.sql.visitors import anon_map as cache_anon_map

from jiuzhu.tenancy.context import (
    CrossTenantWriteError,
    NoScopeError,
    OutOfOrgScopeError,
    Scope,
    current_scope,
)
from jiuzhu.tenancy.mixins import OrgScoped, TenantScoped

_GUC_KEY = "jiuzhu_rls_tenant"


#: attribute of an InstanceState: the scope its object was last read or written in
_STAMP = "jiuzhu_scope"


def _stamp(state, scope: Scope | None = None) -> None:
    if issubclass(state.class_, TenantScoped):
        state.__dict__[_STAMP] = current_scope() if scope is None else scope


class ScopedSession(FlaskSession):
    """The only session class the application uses; scoping is bound to it at definition time."""

    def _identity_lookup(self, mapper, primary_key_identity, identity_token=None, *args, **kwargs):
        """An identity-map hit counts only if the object was read or written in the current scope;
        otherwise the lookup misses and the caller's SQL, scoped, decides (see the module doc)."""
        if issubclass(mapper.class_, TenantScoped):
            key = mapper.identity_key_from_primary_key(primary_key_identity, identity_token=identity_token)
            state = self.identity_map.fast_get_state(key)
            if state is not None and state.__dict__.get(_STAMP, False) != current_scope():
                return None
        return super()._identity_lookup(mapper, primary_key_identity, identity_token, *args, **kwargs)

    def get(self, entity, ident, **kwargs):
        obj = super().get(entity, ident, **kwargs)
        if obj is not None:  # found by scoped SQL, or by a hit stamped with this very scope
            _stamp(instance_state(obj))
        return obj


def restamp(obj, scope: Scope) -> None:
    """Count ``obj``, read in a wider scope of the same tenant, as read in ``scope`` too — only if it
    lies in ``scope`` (its tenant, and its township or village for an org-scoped row); otherwise
    its stamp stays and the next lookup in ``scope`` goes to SQL as usual."""
    state = instance_state(obj)
    if not issubclass(state.class_, TenantScoped) or obj.tenant_id != scope.tenant_id:
        return
    if isinstance(obj, OrgScoped) and not obj.in_org_scope(scope):
        return
    _stamp(state, scope)


@event.listens_for(ScopedSession, "loaded_as_persistent")
def _stamp_loaded(session, instance) -> None:
    _stamp(instance_state(instance))


@event.listens_for(ScopedSession, "pending_to_persistent")
def _stamp_flushed(session, instance) -> None:
    _stamp(instance_state(instance))


def stamp_refreshed(target, context, attrs) -> None:
    """``refresh`` of every mapped class (an expired object reloaded by scoped SQL)."""
    _stamp(instance_state(target))


@lru_cache(maxsize=1)
def _org_scoped_classes() -> tuple[type, ...]:
    from jiuzhu.db import Base

    return tuple(m.class_ for m in Base.registry.mappers if issubclass(m.class_, OrgScoped))


class ScopeCriteria(LoaderCriteriaOption):
    """A scope's loader criteria for one class (or mixin), whose part of a statement's cache key is
    worked out once, not at every statement.

    SQLAlchemy keys its compiled-SQL cache by walking each statement, options included. A scope's
    options are built once (:func:`_tenant_options`) and never change, yet walking them — one per
    org-scoped class, most with a subquery — was most of the key's cost at every statement (about a
    fifth of a case page's Python time). The key is therefore computed once per option, on its own
    (a fresh ``anon_map``: it depends on nothing around it, so two different criteria never share
    a key), and the option's bound parameters — the scope's own ids, which the compiled SQL takes
    its values from — are handed on at each statement exactly as a walk would hand them on. Two
    scopes' options of the same shape get the same key and so share compiled SQL, each bringing
    its own values: as before. It rests on SQLAlchemy 2.0's cache-key internals (``_gen_cache_key``;
    the project pins ``<2.1``); ``tests/test_scoping.py`` checks both sides of that bargain."""

    inherit_cache = True
    _cache_key_traversal = LoaderCriteriaOption._traverse_internals  # (HasCacheKey's default says "none")

    def _gen_cache_key(self, anon_map, bindparams):
        memo = self.__dict__.get("_scope_key")
        if memo is None:
            own: list = []
            own_map = cache_anon_map()
            key = super()._gen_cache_key(own_map, own)
            memo = self.__dict__["_scope_key"] = (None if NO_CACHE in own_map else key, tuple(own))
        key, own = memo
        if key is None:
            anon_map[NO_CACHE] = True
            return None
        bindparams.extend(own)
        return key


def _criteria(entity, where) -> ScopeCriteria:
    return ScopeCriteria(entity, where, include_aliases=True)


@lru_cache(maxsize=4096)
def _tenant_options(scope: Scope) -> tuple:
    """The loader criteria of ``scope``, built once per scope (they only depend on it) — building
    one per org-scoped class for every statement was a fifth of a worklist request."""
    return tuple(_build_tenant_options(scope))


def _build_tenant_options(scope: Scope) -> list:
    tenant_id = scope.tenant_id
    if tenant_id is None:
        opts = [_criteria(TenantScoped, lambda cls: cls.tenant_id.is_(None))]
    else:
        opts = [_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id)]
    # Org criteria differ per model (a case has a township column, a user reaches it through its
    # org unit), so each concrete class gets its own plain expression.
    if scope.village_id is not None:
        opts += [_criteria(cls, cls.village_criteria(scope.village_id)) for cls in _org_scoped_classes()]
    elif scope.township_id is not None:
        opts += [_criteria(cls, cls.township_criteria(scope.township_id)) for cls in _org_scoped_classes()]
    return opts


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, TenantScoped) for m in state.all_mappers)


def _sync_rls(session, connection=None) -> None:
    """Hand the current tenant to PostgreSQL for this transaction, if it changed."""
    bind = connection if connection is not None else session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    scope = current_scope()
    wanted = tenant_setting(scope)
    if session.info.get(_GUC_KEY) == wanted:
        return
    if connection is None:
        connection = session.connection()
        if session.info.get(_GUC_KEY) == wanted:  # after_begin just set it
            return
    connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": wanted})
    session.info[_GUC_KEY] = wanted


def tenant_setting(scope: Scope | None) -> str:
    """``app.tenant_id`` for a scope, signed with this application's key (see ``tenancy.rls``)."""
    if scope is None:
        return ""
    from flask import current_app

    from jiuzhu.tenancy.rls import rls_key, signed_setting

    cache = current_app.extensions.setdefault("jiuzhu.rls", {})
    secret = current_app.config["SECRET_KEY"]
    if cache.get("secret") != secret:
        cache.update(secret=secret, key=rls_key(secret))
    return signed_setting(cache["key"], scope.tenant_id, platform=scope.tenant_id is None)


@event.listens_for(ScopedSession, "after_begin")
def _after_begin(session, transaction, connection) -> None:
    session.info.pop(_GUC_KEY, None)
    _sync_rls(session, connection)


@event.listens_for(ScopedSession, "after_transaction_end")
def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_GUC_KEY, None)


@event.listens_for(ScopedSession, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    scope = current_scope()
    if scope is None:
        if _touches_tenant_data(state):
            names = ", ".join(sorted(m.class_.__name__ for m in state.all_mappers))
            raise NoScopeError(f"query on tenant-owned data ({names}) with no tenant scope set")
        # Tenant-owned tables reached only through a join still yield nothing.
        state.statement = state.statement.options(
            with_loader_criteria(TenantScoped, lambda cls: false(), include_aliases=True))
        return
    if state.session.in_transaction():
        _sync_rls(state.session)
    options = _tenant_options(scope)
    # a relationship load carries the options of the statement that loaded its parent: when those
    # are this very scope's (the same objects, cached above), adding them again only repeats the
    # same conditions in the SQL; another scope's are kept and this scope's added (both apply)
    if options[0] in state.statement._with_options:
        return
    state.statement = state.statement.options(*options)


def _check_write(obj: TenantScoped, scope: Scope | None, *, new: bool) -> None:
    name = type(obj).__name__
    if scope is None:
        raise NoScopeError(f"write to tenant-owned {name} with no tenant scope set")
    if new and obj.tenant_id is None:
        obj.tenant_id = scope.tenant_id
    if not new:
        hist = inspect(obj).attrs.tenant_id.history
        if hist.deleted and hist.deleted[0] is not None and hist.deleted[0] != obj.tenant_id:
            raise CrossTenantWriteError(f"{name} may not move from tenant {hist.deleted[0]} to {obj.tenant_id}")
    if obj.tenant_id != scope.tenant_id:
        raise CrossTenantWriteError(
            f"{name} of tenant {obj.tenant_id} may not be written in the scope of tenant {scope.tenant_id}")
    if obj.tenant_id is None and not type(obj).__tenant_nullable__:
        raise NoScopeError(f"{name} needs a tenant; the platform scope cannot own it")
    if isinstance(obj, OrgScoped) and not obj.in_org_scope(scope):
        raise OutOfOrgScopeError(f"{name} lies outside the {scope.level} this user works in")


@event.listens_for(ScopedSession, "before_flush")
def _scope_flush(session, flush_context, instances) -> None:
    scope = current_scope()
    for obj in session.new:
        if isinstance(obj, TenantScoped):
            _check_write(obj, scope, new=True)
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantScoped) and (obj in session.deleted or session.is_modified(obj)):
            _check_write(obj, scope, new=False)
    if scope is not None:
        _sync_rls(session)
