"""``flask --app wsgi calendar …``: the platform operator keeps the working-day calendar."""

from __future__ import annotations

import datetime as dt
import getpass

import click
from flask.cli import AppGroup
from sqlalchemy import select

from jiuzhu.calendar.cache import current_index
from jiuzhu.calendar.index import WEEKDAY_NAMES, OutOfCalendarRange
from jiuzhu.calendar.models import CalendarYear
from jiuzhu.calendar.schedulefile import read_schedule_file
from jiuzhu.calendar.services import by_line, enter_year, schedule_problems, year_schedule
from jiuzhu.clihelpers import refused_cleanly
from jiuzhu.errors import ValidationError
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope

calendar_cli = AppGroup("calendar", help="工作日历：查看、录入每年的放假安排，计算工作日期限。")


def _day(day: dt.date) -> str:
    return f"{day.isoformat()}（{WEEKDAY_NAMES[day.weekday()]}）"


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise click.ClickException(f"日期“{value}”无效，应为 YYYY-MM-DD。") from None


def _operator_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in a bare container
        return "cli"


@calendar_cli.command("list")
def list_years_command():
    """列出已发布放假安排的年份及其来源。"""
    years = db.session.scalars(select(CalendarYear).order_by(CalendarYear.year)).all()
    if not years:
        click.echo("尚无已发布的年份。")
        return
    click.echo(f"{'年份':<6}{'来源':<22}{'录入人':<18}{'录入时间':<12}备注")
    for y in years:
        click.echo(f"{y.year:<8}{y.source.label:<20}{y.entered_by:<20}{y.entered_at:%Y-%m-%d}  {y.note or ''}")


@calendar_cli.command("show")
@click.argument("year", type=int)
def show_year_command(year):
    """显示某年的休假日和调休上班日，以及该年是否已发布、来源。"""
    schedule = year_schedule(db.session, year)
    entry = schedule.entry
    if entry is None:
        click.echo(f"{year} 年：放假安排尚未发布。在录入之前，该年的工作日只按周末计算，"
                   "落在该年的截止日期均为暂定。")
        return
    click.echo(f"{year} 年：已发布（{entry.source.label}，录入人 {entry.entered_by}，"
               f"{entry.entered_at:%Y-%m-%d %H:%M} UTC）")
    if entry.note:
        click.echo(f"依据：{entry.note}")
    click.echo("\n休假日：")
    for h in schedule.holidays:
        days = (h.last - h.first).days + 1
        span = _day(h.first) if days == 1 else f"{_day(h.first)} 至 {_day(h.last)}"
        click.echo(f"  {h.name}：{span}，共 {days} 天")
    click.echo("\n调休上班日：")
    if not schedule.workdays:
        click.echo("  无")
    for w in schedule.workdays:
        click.echo(f"  {_day(w.day)}  {w.name}")


@calendar_cli.command("enter")
@click.argument("year", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--note", default=None, help="依据的文件号，如 国办发明电〔2026〕xx号。")
@click.option("--by", "entered_by", default=None, help="录入人（默认当前系统用户名）。")
@click.option("--replace", is_flag=True, help="替换该年已发布的放假安排（更正错误时使用）。")
def enter_year_command(year, path, note, entered_by, replace):
    """从 CSV 文件录入某年的放假安排（列：日期,类型,名称；类型为“休”或“班”；日期可写区间
    2027-10-01~2027-10-07）。任何一行有误则整个文件不录入。"""
    with use_scope(Scope.platform()), refused_cleanly():
        parsed = read_schedule_file(path)
        entered_by = entered_by or _operator_name()
        if parsed.errors:
            raise ValidationError(*by_line([*parsed.errors, *schedule_problems(
                db.session, year, parsed.holidays, parsed.workdays, entered_by=entered_by, note=note,
                replace=replace)]))
        enter_year(db.session, year, parsed.holidays, parsed.workdays, entered_by=entered_by, note=note,
                   replace=replace)
    schedule = year_schedule(db.session, year)
    off = sum((h.last - h.first).days + 1 for h in schedule.holidays)
    click.echo(f"已{'替换' if replace else '录入'} {year} 年放假安排：休假日 {off} 天，"
               f"调休上班日 {len(schedule.workdays)} 天。")


@calendar_cli.command("add-workdays")
@click.argument("start")
@click.argument("n", type=click.IntRange(min=0))
def add_workdays_command(start, n):
    """计算从某日起 N 个工作日后的截止日期（当日不计入）。"""
    start_day = _parse_date(start)
    index = current_index()
    try:
        deadline = index.add_workdays(start_day, n)
    except OutOfCalendarRange as exc:
        raise click.ClickException(exc.messages[0]) from None
    click.echo(f"{_day(start_day)} 后第 {n} 个工作日（当日不计）：{_day(deadline.due)}")
    if deadline.provisional:
        missing = [y for y in range(start_day.year, deadline.due.year + 1) if not index.is_published(y)]
        click.echo(f"暂定：{'、'.join(map(str, missing))} 年的放假安排尚未发布，按周末计算；"
                   "录入后将重新计算。")
    else:
        click.echo("已按已发布的放假安排计算，不是暂定日期。")
