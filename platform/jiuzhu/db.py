"""The declarative base and the session class every part of Jiuzhu shares."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase, registry

from jiuzhu.tenancy.scoping import ScopedSession

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                        type_annotation_map={dt.datetime: DateTime(timezone=True)})


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


__all__ = ["Base", "ScopedSession", "utcnow"]
