"""Jiuzhu (救助): the core of the multi-tenant social-assistance platform.

Importing this package has no side effects; :func:`create_app` builds everything.
"""


def create_app(overrides=None):
    from jiuzhu.app import create_app as _create_app

    return _create_app(overrides)


__all__ = ["create_app"]
