"""居民身份证号码 (GB 11643-1999): 18 characters, the last a check character over the first 17.

Layout: 6-digit address code, 8-digit birth date (YYYYMMDD), 3-digit sequence (odd for men, even
for women), check character (0–9 or X) computed with ISO 7064 MOD 11-2.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(ValueError):
    """The message is Chinese and says what is wrong."""


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: dt.date
    sex: str  # "male" | "female"
    region_code: str

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def check_character(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def parse_id_number(raw: str, today: dt.date | None = None) -> IdNumber:
    """Validate and decode an 18-character ID number; raise :class:`InvalidIdNumber` in Chinese."""
    number = (raw or "").strip().upper().replace(" ", "")
    if len(number) != 18:
        raise InvalidIdNumber(f"身份证号码应为 18 位，实际为 {len(number)} 位。")
    if not _SHAPE.match(number):
        raise InvalidIdNumber("身份证号码前 17 位须为数字，末位为数字或 X。")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(f"身份证号码中的出生日期 {number[6:14]} 不是有效日期。") from None
    if today is None:
        from jiuzhu.clock import china_today

        today = china_today()
    if birth > today or birth.year < 1880:
        raise InvalidIdNumber(f"身份证号码中的出生日期 {birth.isoformat()} 不合理。")
    expected = check_character(number[:17])
    if number[17] != expected:
        raise InvalidIdNumber("身份证号码校验位不正确，请核对是否录入有误。")
    sex = "male" if int(number[16]) % 2 == 1 else "female"
    return IdNumber(number=number, birth_date=birth, sex=sex, region_code=number[:6])


def make_id_number(region: str, birth: dt.date, sequence: int) -> str:
    """A valid number for the given parts (demo data and tests; sequence odd = male)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)
