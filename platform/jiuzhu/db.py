"""The declarative base and the session class every part of Jiuzhu shares."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, MetaData, TypeDecorator, event
from sqlalchemy.orm import DeclarativeBase, registry

from jiuzhu.tenancy.scoping import ScopedSession, stamp_refreshed

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp stored with time zone and always handed back aware, in UTC.

    PostgreSQL returns aware values already; SQLite (the demo) returns naive ones, which would
    break every comparison with ``utcnow()``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                        type_annotation_map={dt.datetime: UTCDateTime()})


# an expired object reloaded (by SQL under the current scope's criteria) is stamped with that scope
event.listen(Base, "refresh", stamp_refreshed, propagate=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


__all__ = ["Base", "ScopedSession", "UTCDateTime", "utcnow"]
