"""RQ entry points. Jobs take ids, never ORM objects, and run inside the tenant's scope."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import select

from jiuzhu.calendar import is_workday
from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from jiuzhu.instance import InstanceIdentity, enqueue, instance_job, job_app
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import Tenant

log = logging.getLogger(__name__)


@contextmanager
def county_job(tenant_id: int):
    """A job's work in one county: its app context and scope, the session removed afterwards. Yields the
    app and the county, or None for a county that is gone or inactive."""
    app = job_app()
    with app.app_context(), use_scope(Scope(tenant_id)):
        try:
            tenant = db.session.get(Tenant, tenant_id)
            yield app, (tenant if tenant is not None and tenant.active else None)
        finally:
            db.session.remove()


def active_tenant_ids() -> list[int]:
    return list(db.session.scalars(select(Tenant.id).where(Tenant.active.is_(True)).order_by(Tenant.id)))


@instance_job
def sweep() -> int:
    """The cron job: one job per active tenant. Returns how many were enqueued."""
    app = job_app()
    with app.app_context():
        ids = active_tenant_ids()
        db.session.remove()
        for tenant_id in ids:
            enqueue_tenant_reminders(app, tenant_id)
    return len(ids)


def enqueue_tenant_reminders(app: Flask, tenant_id: int):
    return enqueue(app, send_tenant_reminders, tenant_id, tenant_id=tenant_id, job_timeout=600, result_ttl=3600,
                   failure_ttl=7 * 86400, description=f"reminders for tenant {tenant_id}")


def register_cron_jobs(register, ident: InstanceIdentity, sweep_seconds: int) -> None:
    """The periodic jobs, for ``register`` (``rq.cron.register`` or a ``CronScheduler``'s): the sweep,
    the daily purge of stored API answers (kept JIUZHU_API_IDEMPOTENCY_DAYS), and the daily anchoring
    of every county's audit chain head outside the database (JIUZHU_AUDIT_ANCHOR_DIR)."""
    from jiuzhu.audit.anchors import anchor_audit_heads

    register(sweep, ident.queue_name, interval=sweep_seconds, meta=ident.meta, name=f"{ident.name}:reminder-sweep")
    register(purge_api_requests, ident.queue_name, interval=86400, meta=ident.meta,
             name=f"{ident.name}:api-idempotency-purge")
    register(disable_dormant_accounts, ident.queue_name, interval=86400, meta=ident.meta,
             name=f"{ident.name}:dormant-accounts")
    register(purge_access_log, ident.queue_name, interval=86400, meta=ident.meta,
             name=f"{ident.name}:access-log-retention")
    register(anchor_audit_heads, ident.queue_name, interval=86400, meta=ident.meta,
             name=f"{ident.name}:audit-anchor")
    # 重复享受: every night at 02:30 (TZ=Asia/Shanghai), one job per county over the registry
    register(duplicate_sweep, ident.queue_name, cron="30 2 * * *", meta=ident.meta,
             name=f"{ident.name}:duplicate-sweep")


@instance_job
def duplicate_sweep() -> int:
    """The nightly cron job: one pass over the whole duplicate-benefit registry, then one job per active
    county to take its slice. Returns how many county jobs were enqueued."""
    from jiuzhu.duplicates.services import refresh

    app = job_app()
    with app.app_context():
        with use_scope(Scope.platform()):
            pairs = refresh(db.session)
            db.session.commit()
        log.info("duplicate registry refreshed", extra={"pairs": pairs})
        ids = active_tenant_ids()
        db.session.remove()
        for tenant_id in ids:
            enqueue(app, sweep_tenant_duplicates, tenant_id, tenant_id=tenant_id, job_timeout=1800,
                    result_ttl=86400, failure_ttl=7 * 86400, description=f"duplicate sweep for tenant {tenant_id}")
    return len(ids)


@instance_job
def sweep_tenant_duplicates(tenant_id: int, *, today: str | None = None) -> dict:
    """One county's duplicates against the whole registry: findings recorded, new ones reported to the
    county's staff, reminders planned for 协查 requests asked of it (jiuzhu.duplicates.services)."""
    import datetime as dt

    from jiuzhu.duplicates.services import sweep_county

    with county_job(tenant_id) as (_app, tenant):
        if tenant is None:
            return {"skipped": "inactive"}
        report = sweep_county(db.session, dt.date.fromisoformat(today) if today else china_today())
        db.session.commit()
        return report


@instance_job
def purge_access_log() -> int:
    """The daily cron job: access-log rows older than JIUZHU_ACCESS_LOG_RETENTION_DAYS go (never
    younger than 183 days — the database function refuses)."""
    from jiuzhu.privacy.services import purge_expired

    app = job_app()
    with app.app_context():
        try:
            return purge_expired(db.session, app.config["JIUZHU_ACCESS_LOG_RETENTION_DAYS"])
        finally:
            db.session.remove()


@instance_job
def disable_dormant_accounts() -> int:
    """The daily cron job: in every county, accounts unused beyond its security policy are disabled."""
    from jiuzhu.auth.services import disable_dormant_accounts as disable

    app = job_app()
    count = 0
    with app.app_context():
        for tenant_id in active_tenant_ids():
            with use_scope(Scope(tenant_id)):
                count += len(disable(db.session))
                db.session.commit()
        db.session.remove()
    return count


@instance_job
def purge_api_requests() -> int:
    """The daily cron job: each county forgets its stored API answers older than
    JIUZHU_API_IDEMPOTENCY_DAYS. Returns how many rows went."""
    from jiuzhu.api.tokens import purge_idempotency
    from jiuzhu.tenancy.context import Scope, use_scope

    app = job_app()
    removed = 0
    with app.app_context():
        days = app.config.get("JIUZHU_API_IDEMPOTENCY_DAYS") or 30
        for tenant_id in active_tenant_ids():
            with use_scope(Scope(tenant_id)):
                removed += purge_idempotency(db.session, days=days)
                db.session.commit()
        db.session.remove()
    return removed


@instance_job
def send_tenant_reminders(tenant_id: int, *, batch: int | None = None, today: str | None = None) -> dict:
    """Send the tenant's due reminders, then attempt its pending external deliveries.

    ``today`` (ISO date) is for operators re-running a past day; normally the China date.
    """
    import datetime as dt
    import os

    from jiuzhu.reminders.channels import deliver_pending
    from jiuzhu.reminders.dispatch import dispatch_due

    with county_job(tenant_id) as (app, tenant):
        if tenant is None:
            return {"skipped": "inactive"}
        plugin = app.extensions["jiuzhu.plugins"].get(tenant.plugin_key)
        settings = plugin.settings(tenant.plugin_settings)
        day = dt.date.fromisoformat(today) if today else china_today()
        if not is_workday(day) and not settings.get("remind_on_non_workdays"):
            return {"skipped": "non-workday"}
        batch = batch or int(os.environ.get("JIUZHU_REMINDER_BATCH", "1000"))
        if _first_sweep_of_the_day(app, tenant_id, day):  # months unpaid past their pay-by day, once a day
            from jiuzhu.reminders.planner import sync_late_payments

            sync_late_payments(db.session, day)
            db.session.commit()
        sent = dispatch_due(db.session, day, repeat_workdays=settings.get("overdue_repeat_workdays", 2),
                            batch=batch)
        delivered, failed = deliver_pending(db.session)
        return {"sent": sent, "delivered": delivered, "failed": failed}


def _first_sweep_of_the_day(app: Flask, tenant_id: int, day) -> bool:
    """True once per county and China day (a key in the instance's Redis namespace, kept two days): the
    late-payment planning reads every schedule, which the five-minute sweep need not redo. Without Redis
    (run inline) it plans each time — idempotent, only slower."""
    from jiuzhu.instance import identity, shared_redis

    try:
        key = identity(app).key("late-payments", tenant_id, day.isoformat())
        # one client (and its pooled connection) per worker process, not one per job
        return bool(shared_redis(app).set(key, "1", nx=True, ex=2 * 86400))
    except Exception:  # noqa: BLE001 — no Redis: plan anyway (the outbox's key makes it idempotent)
        return True


def run_inline(app: Flask) -> dict[int, dict]:
    """Everything a sweep would enqueue, run here and now (the demo without Redis; operators)."""
    with app.app_context():
        ids = active_tenant_ids()
        db.session.remove()
    return {tenant_id: send_tenant_reminders(tenant_id) for tenant_id in ids}
