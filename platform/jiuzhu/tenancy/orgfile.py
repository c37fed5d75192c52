"""Reading an org-tree file (CSV or Excel) into rows for :func:`import_org_tree`.

One row per village (or per township with the village columns empty). Header names may be
Chinese or English:

======================  ============================
column                  accepted headers
======================  ============================
township                乡镇, 乡镇（街道）, township
township division code  乡镇区划代码, township_code
village                 村, 村（社区）, village
village division code   村区划代码, village_code
======================  ============================
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from jiuzhu.errors import ValidationError
from jiuzhu.tenancy.services import OrgRow

HEADERS = {
    "township": {"乡镇", "乡镇（街道）", "乡镇(街道)", "township"},
    "township_code": {"乡镇区划代码", "township_code"},
    "village": {"村", "村（社区）", "村(社区)", "village"},
    "village_code": {"村区划代码", "village_code"},
}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _rows_from_table(table: list[list[str]]) -> list[OrgRow]:
    if not table:
        raise ValidationError("文件为空。")
    header = [_cell(h) for h in table[0]]
    index: dict[str, int] = {}
    for key, names in HEADERS.items():
        for i, h in enumerate(header):
            if h in names:
                index[key] = i
    if "township" not in index:
        raise ValidationError(
            "文件第一行须为表头，且至少包含“乡镇”列；可用列：乡镇、乡镇区划代码、村、村区划代码。"
            f"实际表头：{'、'.join(h for h in header if h) or '（空）'}。")

    def get(row, key):
        i = index.get(key)
        return _cell(row[i]) if i is not None and i < len(row) else ""

    out = []
    for n, row in enumerate(table[1:], start=2):
        if not any(_cell(c) for c in row):
            continue
        out.append(OrgRow(line=n, township=get(row, "township"), village=get(row, "village") or None,
                          township_code=get(row, "township_code") or None,
                          village_code=get(row, "village_code") or None))
    if not out:
        raise ValidationError("文件中没有数据行。")
    return out


def read_org_file(path: str | Path) -> list[OrgRow]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                raise ValidationError("CSV 文件编码无法识别，请保存为 UTF-8 或 GB18030 编码。") from None
        return _rows_from_table(list(csv.reader(io.StringIO(text))))
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception:
            raise ValidationError("无法读取 Excel 文件，请确认是有效的 .xlsx 文件。") from None
        ws = wb.worksheets[0]
        table = [list(r) for r in ws.iter_rows(values_only=True)]
        wb.close()
        return _rows_from_table(table)
    raise ValidationError(f"不支持的文件类型“{suffix or '无扩展名'}”：请使用 .csv 或 .xlsx。")
