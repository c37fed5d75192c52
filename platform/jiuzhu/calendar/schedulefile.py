"""Reading a year's holiday schedule from a small CSV file, for ``flask calendar enter``.

One row per holiday period or make-up working day, as the State Council's notice lists them::

    日期,类型,名称
    2027-01-01~2027-01-03,休,元旦
    2027-02-20,班,春节调休

======  =====================  ==========================================================
column  headers                values
======  =====================  ==========================================================
date    日期, date             ``YYYY-MM-DD``, or a range ``YYYY-MM-DD~YYYY-MM-DD`` (also ``～``)
kind    类型, kind             休 / holiday (days off) or 班 / workday (make-up working day)
name    名称, name             e.g. 国庆节, 春节调休
======  =====================  ==========================================================

UTF-8 (with or without BOM) or GB18030, as Excel saves it. Rows that cannot be read are reported
together with what :func:`~jiuzhu.calendar.services.enter_year` would refuse in the others, so one
attempt shows every problem; one bad row refuses the whole file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from jiuzhu.calendar.services import HolidayPeriod, MakeUpWorkday
from jiuzhu.errors import ValidationError

HEADERS = {
    "date": {"日期", "date"},
    "kind": {"类型", "kind"},
    "name": {"名称", "name"},
}
HOLIDAY_KINDS = {"休", "放假", "休假", "holiday"}
WORKDAY_KINDS = {"班", "上班", "workday"}
RANGE_RE = re.compile(r"\s*[~～]\s*")
DATE_RE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


def _date(text: str) -> dt.date | None:
    m = DATE_RE.match(text.strip())
    if not m:
        return None
    try:
        return dt.date(*map(int, m.groups()))
    except ValueError:
        return None


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError("CSV 文件编码无法识别，请保存为 UTF-8 或 GB18030 编码。")


@dataclass
class ScheduleFile:
    """The rows that could be read, and a message for each row that could not."""

    holidays: list[HolidayPeriod] = field(default_factory=list)
    workdays: list[MakeUpWorkday] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_schedule(text: str) -> ScheduleFile:
    """Read the rows; a file that is not a schedule at all (no header, no rows) raises."""
    table = [row for row in csv.reader(io.StringIO(text))]
    if not table or not any(c.strip() for c in table[0]):
        raise ValidationError("文件为空。")
    header = [h.strip().lower() for h in table[0]]
    index = {key: header.index(name) for key, names in HEADERS.items() for name in names if name in header}
    missing = [key for key in HEADERS if key not in index]
    if missing:
        raise ValidationError(
            "文件第一行须为表头：日期,类型,名称（或 date,kind,name）。"
            f"实际表头：{'、'.join(h for h in table[0] if h.strip()) or '（空）'}。")

    parsed = ScheduleFile()
    holidays, workdays, errors = parsed.holidays, parsed.workdays, parsed.errors
    for line, row in enumerate(table[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cell = {key: (row[i].strip() if i < len(row) else "") for key, i in index.items()}
        where = f"第 {line} 行："
        parts = RANGE_RE.split(cell["date"])
        dates = [_date(p) for p in parts]
        if len(parts) > 2 or None in dates:
            errors.append(f"{where}日期“{cell['date']}”无效，应为 YYYY-MM-DD 或 YYYY-MM-DD~YYYY-MM-DD。")
            continue
        first, last = dates[0], dates[-1]
        kind = cell["kind"].lower()
        if kind in HOLIDAY_KINDS:
            holidays.append(HolidayPeriod(first, last, cell["name"], line))
        elif kind in WORKDAY_KINDS:
            if last < first:
                errors.append(f"{where}区间 {cell['date']} 的结束日期早于开始日期。")
                continue
            workdays += [MakeUpWorkday(first + dt.timedelta(days=i), cell["name"], line)
                         for i in range((last - first).days + 1)]
        else:
            errors.append(f"{where}类型“{cell['kind']}”无效，应为“休”或“班”（或 holiday / workday）。")
    if not holidays and not workdays and not errors:
        raise ValidationError("文件中没有数据行。")
    return parsed


def read_schedule_file(path: str | Path) -> ScheduleFile:
    path = Path(path)
    if path.suffix.lower() not in {".csv", ".txt"}:
        raise ValidationError(f"不支持的文件类型“{path.suffix or '无扩展名'}”：请使用 .csv 文件。")
    return parse_schedule(_decode(path.read_bytes()))
