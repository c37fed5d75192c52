"""The scope a request or job runs in: which tenant, and inside it which township or village.

Held in a :class:`~contextvars.ContextVar`, set once per request (from the logged-in user) or per job
(from the ids the job was given), and reset afterwards. A query on a tenant-owned model with no scope
set raises :class:`NoScopeError` — scoping fails closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


class ScopeError(RuntimeError):
    """Base class of every scoping violation."""


class NoScopeError(ScopeError):
    """A tenant-owned model was queried or written with no scope set."""


class CrossTenantWriteError(ScopeError):
    """A write would touch a row of another tenant, or move a row between tenants."""


class OutOfOrgScopeError(ScopeError):
    """A township or village user tried to write a row outside their township or village."""


@dataclass(frozen=True)
class Scope:
    """Where the current work happens.

    ``tenant_id=None`` is the platform scope of the operator: it sees tenant-less rows only.
    ``township_id`` narrows to one township (and its villages); ``village_id`` to one village.
    """

    tenant_id: int | None
    township_id: int | None = None
    village_id: int | None = None

    @classmethod
    def platform(cls) -> Scope:
        return cls(tenant_id=None)

    @property
    def is_platform(self) -> bool:
        return self.tenant_id is None

    @property
    def level(self) -> str:
        if self.tenant_id is None:
            return "platform"
        if self.village_id is not None:
            return "village"
        if self.township_id is not None:
            return "township"
        return "county"


_current: ContextVar[Scope | None] = ContextVar("jiuzhu_scope", default=None)


def current_scope() -> Scope | None:
    return _current.get()


def require_scope() -> Scope:
    scope = _current.get()
    if scope is None:
        raise NoScopeError("no tenant scope is set for this request or job")
    return scope


def set_scope(scope: Scope | None):
    """Set the scope and return the token for :func:`reset_scope` (request hooks use this pair)."""
    return _current.set(scope)


def reset_scope(token) -> None:
    _current.reset(token)


@contextmanager
def use_scope(scope: Scope | None) -> Iterator[Scope | None]:
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def tenant_scope(tenant_id: int) -> Scope:
    return Scope(tenant_id=tenant_id)
