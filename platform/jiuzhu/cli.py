"""Operator commands: ``flask --app wsgi tenants|org|users|calendar|audit|keys|reminders|demo …``."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from jiuzhu.api.cli import tokens_cli
    from jiuzhu.audit.cli import audit_cli
    from jiuzhu.auth.cli import users_cli
    from jiuzhu.calendar.cli import calendar_cli
    from jiuzhu.crypto.cli import keys_cli
    from jiuzhu.demo import demo_code_command, demo_command
    from jiuzhu.ops.cli import collect_static_command
    from jiuzhu.reminders.cli import reminders_cli
    from jiuzhu.tenancy.cli import org_cli, tenants_cli

    app.cli.add_command(tenants_cli)
    app.cli.add_command(org_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(demo_code_command)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(collect_static_command)
    app.cli.add_command(keys_cli)
