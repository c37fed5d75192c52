"""Masked display of ID numbers, phones and contacts: what lists, pages, exports and answers show.

* an ID number keeps its first 4 and last 4 characters (province and city, and the check
  character): ``3410**********1234`` — the birth date and county stay hidden;
* a mobile number keeps 3 and 4: ``138****5678``; other phone-like values keep their last 4;
* a contact that is not a phone (an address, an e-mail) keeps its first character.
"""

from __future__ import annotations

import re

_PHONE_CHARS = re.compile(r"^[\d\s+()\-]+$")


def mask_id_number(number: str | None) -> str:
    if not number:
        return ""
    number = str(number)
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = re.sub(r"\D", "", str(phone))
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def mask_contact(contact: str | None) -> str:
    """A contact is a phone number, or anything else a reporter left (an address, an e-mail)."""
    if not contact:
        return ""
    contact = str(contact).strip()
    if _PHONE_CHARS.match(contact):
        return mask_phone(contact)
    return contact[:1] + "*" * min(max(len(contact) - 1, 3), 8)


__all__ = ["mask_contact", "mask_id_number", "mask_phone"]
