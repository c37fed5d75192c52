"""Amounts of money as people type them: a finite decimal, in yuan to the fen, within what the
columns hold. One parser, so that ``NaN``, ``Infinity``, ``1e20`` or fourteen digits are refused
with the same clear message wherever they are typed (screens, API, imports)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
#: the largest amount a money column (``Numeric(12, 2)``) holds
MAX_AMOUNT = Decimal("9999999999.99")


class MoneyError(ValueError):
    """The Chinese message says what is wrong with the amount."""


def parse_money(value, label: str, *, positive: bool = False, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """``value`` as yuan to the fen, or :class:`MoneyError` naming ``label``."""
    text = str(value).strip().replace(",", "").replace("，", "")
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise MoneyError(f"{label}“{value}”不是有效金额。") from None
    if not amount.is_finite():
        raise MoneyError(f"{label}“{value}”不是有效金额。")
    if amount < 0:
        raise MoneyError(f"{label}不能为负数。")
    if positive and amount == 0:
        raise MoneyError(f"{label}须大于 0 元。")
    if amount > maximum:
        raise MoneyError(f"{label}过大（不能超过 {maximum:,} 元）。")
    return amount.quantize(CENT)
