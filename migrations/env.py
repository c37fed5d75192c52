"""Alembic environment: runs as the schema owner, against the application's metadata."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import create_engine

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def owner_engine():
    """The schema owner's connection: JIUZHU_DATABASE_ADMIN_URL, else the application's own."""
    admin_url = current_app.config.get("JIUZHU_DATABASE_ADMIN_URL")
    return create_engine(admin_url) if admin_url else target_db.engine


def run_migrations_offline():
    context.configure(url=str(owner_engine().url), target_metadata=target_db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def render_item(type_, obj, autogen_context):
    """Render our column types as the plain SQLAlchemy types they store (migrations stay stable)."""
    from jiuzhu.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online():
    def skip_empty(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    conf_args.setdefault("render_item", render_item)
    engine = owner_engine()
    with engine.connect() as connection:
        conf_args.setdefault("render_as_batch", connection.dialect.name == "sqlite")
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
    if engine is not target_db.engine:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
