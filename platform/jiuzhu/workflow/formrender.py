"""Step forms on screen: a marshmallow schema rendered as HTML inputs, and the posted form read back.

The schema stays the single source of truth: the engine validates with it, the API documents it,
and this module only turns its fields into inputs (text, multi-line, date, number, yes/no, a choice,
one-per-line lists, a per-category findings table) and the posted values back into the structure
``schema.load`` expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, validate

from jiuzhu.cases.categories import CATEGORY_LABELS, Category, Finding

#: labels of the fields the baseline's forms use; a field's ``metadata["label"]`` wins
FIELD_LABELS = {
    "report_no": "核对报告编号", "result": "核对结果", "agency": "核对机构", "per_capita_income": "人均月收入（元）",
    "note": "备注", "investigators": "调查人员（每行一人，至少 2 人）", "visited_on": "入户日期",
    "findings": "调查情况", "doubt": "是否存在疑义", "neighbour_visits": "邻里访问（户）", "held_on": "日期",
    "participants": "参加人员", "opinion": "审核意见", "proposed_amount": "拟保障金额（元/月）",
    "channels": "公示渠道（每行一个）", "objection": "异议内容", "monthly_amount": "月保障金额（元）",
    "referral": "转介部门", "delivered_on": "送达日期", "months": "渐退月数", "amount": "金额（元）",
    "reason": "理由",
}
CHOICE_LABELS = {"pass": "符合", "fail": "不符合", **{f.value: f.label for f in Finding},
                 **{c.value: c.label for c in Category}}
LONG_TEXT = {"findings", "opinion", "note", "objection", "result"}


@dataclass
class FieldView:
    name: str
    label: str
    kind: str  # text, textarea, date, number, yesno, choice, lines, findings, checkbox
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None


def _choices(f: fields.Field) -> list[tuple[str, str]]:
    for v in f.validators:
        if isinstance(v, validate.OneOf):
            return [(str(c), CHOICE_LABELS.get(str(c), str(c))) for c in v.choices]
    return []


def field_views(schema_cls: type[Schema] | None, values: dict | None = None) -> list[FieldView]:
    if schema_cls is None:
        return []
    values = values or {}
    out = []
    for name, f in schema_cls().fields.items():
        label = f.metadata.get("label") or FIELD_LABELS.get(name, name)
        required = bool(f.required)
        if isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
            kind = "findings"
        elif isinstance(f, fields.List):
            kind = "lines"
        elif isinstance(f, fields.Boolean):
            kind = "yesno" if required else "checkbox"
        elif isinstance(f, fields.Date):
            kind = "date"
        elif isinstance(f, fields.Integer | fields.Decimal | fields.Float):
            kind = "number"
        elif _choices(f):
            kind = "choice"
        else:
            kind = "textarea" if name in LONG_TEXT else "text"
        out.append(FieldView(name, label, kind, required, _choices(f), values.get(name)))
    return out


def read_form(schema_cls: type[Schema] | None, form, prefix: str, categories: list[str]) -> dict:
    """The posted inputs of ``prefix``-named fields as the dict the schema loads (blank → absent)."""
    if schema_cls is None:
        return {}
    data: dict[str, Any] = {}
    for view in field_views(schema_cls):
        key = f"{prefix}{view.name}"
        if view.kind == "findings":
            items = []
            for category in categories:
                finding = form.get(f"{key}.{category}")
                if finding:
                    items.append({"category": category, "finding": finding,
                                  "reason": form.get(f"{key}.{category}.reason") or None})
            if items:
                data[view.name] = items
        elif view.kind == "lines":
            lines = [line.strip() for line in (form.get(key) or "").splitlines() if line.strip()]
            if lines or view.required:
                data[view.name] = lines
        elif view.kind == "yesno":
            raw = form.get(key)
            if raw in ("true", "false"):
                data[view.name] = raw == "true"
        elif view.kind == "checkbox":
            data[view.name] = form.get(key) in ("y", "on", "true")
        else:
            raw = (form.get(key) or "").strip()
            if raw:
                data[view.name] = raw
    return data


__all__ = ["CATEGORY_LABELS", "FieldView", "field_views", "read_form"]
