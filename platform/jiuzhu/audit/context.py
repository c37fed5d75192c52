"""Who is acting: the logged-in user of a request, or the system (jobs, commands, migrations).

Held in a :class:`~contextvars.ContextVar` like the tenant scope, set once per request from the
logged-in user and reset afterwards. With nothing set, the actor is :data:`SYSTEM`: work that no
person started is still recorded, as the system's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A snapshot of who acted, copied into every event (a user may later be renamed or deleted)."""

    #: the user's id, or None for the system
    id: int | None
    #: e.g. 汪某（xt-staff）, or 系统
    name: str
    #: the user's role (``Role`` value), or ``system``
    role: str


SYSTEM = Actor(id=None, name="系统", role="system")

_current: ContextVar[Actor | None] = ContextVar("jiuzhu_actor", default=None)


def current_actor() -> Actor:
    return _current.get() or SYSTEM


def actor_for(user) -> Actor:
    """The actor for a logged-in :class:`~jiuzhu.auth.models.User`."""
    return Actor(id=user.id, name=str(user), role=str(user.role.value))


def set_actor(actor: Actor | None):
    """Set the actor and return the token for :func:`reset_actor` (request hooks use this pair)."""
    return _current.set(actor)


def reset_actor(token) -> None:
    _current.reset(token)


@contextmanager
def use_actor(actor: Actor | None) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor or SYSTEM
    finally:
        _current.reset(token)
