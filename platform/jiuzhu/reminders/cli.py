"""``flask --app wsgi reminders worker|cron|sweep``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

reminders_cli = AppGroup("reminders", help="提醒：启动 RQ 工作进程、定时任务，或立即发送。")


@reminders_cli.command("worker")
@click.option("--burst", is_flag=True, help="处理完队列中的任务即退出。")
@click.option("--name", default=None, help="工作进程名称。")
def worker_command(burst, name):
    """启动 RQ 工作进程（处理本实例队列中的提醒与导入任务；Redis 断开时自动重连）。"""
    from rq import SimpleWorker

    from jiuzhu.instance import identity, redis_connection, run_with_reconnect

    app = current_app._get_current_object()
    ident = identity(app)
    click.echo(f"实例 {ident.name}：处理队列 {ident.queue_name}")

    def run():
        worker = SimpleWorker([ident.queue_name], connection=redis_connection(app), name=name)
        return worker.work(burst=burst, with_scheduler=False)

    run_with_reconnect(run, what=f"RQ worker of {ident.name}")


@reminders_cli.command("cron")
def cron_command():
    """启动 rq cron，定时扫描到期提醒（每 JIUZHU_REMINDER_SWEEP_SECONDS 秒；Redis 断开时自动重连）。"""
    from rq.cron import CronScheduler

    from jiuzhu.instance import identity, redis_connection, run_with_reconnect
    from jiuzhu.reminders.jobs import register_cron_jobs

    app = current_app._get_current_object()
    ident = identity(app)

    def run():
        scheduler = CronScheduler(connection=redis_connection(app))
        register_cron_jobs(scheduler.register, ident, app.config["JIUZHU_REMINDER_SWEEP_SECONDS"])
        return scheduler.start()

    run_with_reconnect(run, what=f"rq cron of {ident.name}")


@reminders_cli.command("sweep")
@click.option("--inline", is_flag=True, help="不经 Redis，直接在本进程发送（演示、运维）。")
def sweep_command(inline):
    """立即扫描一次：把每个县的提醒任务放入队列，或用 --inline 直接发送。"""
    from jiuzhu.reminders.jobs import run_inline, sweep

    if inline:
        for tenant_id, result in run_inline(current_app._get_current_object()).items():
            click.echo(f"县（区）{tenant_id}：{result}")
    else:
        click.echo(f"已为 {sweep()} 个县（区）排队发送提醒。")
