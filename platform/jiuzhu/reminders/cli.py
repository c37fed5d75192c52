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
    """启动 RQ 工作进程（处理提醒任务）。"""
    from rq import SimpleWorker

    from jiuzhu.reminders.jobs import QUEUE, redis_connection

    app = current_app._get_current_object()
    conn = redis_connection(app)
    worker = SimpleWorker([QUEUE], connection=conn, name=name)
    worker.work(burst=burst, with_scheduler=False)


@reminders_cli.command("cron")
def cron_command():
    """启动 rq cron，定时扫描到期提醒（每 JIUZHU_REMINDER_SWEEP_SECONDS 秒）。"""
    from rq.cron import CronScheduler

    from jiuzhu.reminders.jobs import redis_connection

    scheduler = CronScheduler(connection=redis_connection(current_app._get_current_object()))
    scheduler.load_config_from_file("jiuzhu.reminders.cron")
    scheduler.start()


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
