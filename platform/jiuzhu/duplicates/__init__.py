"""Duplicate benefits (重复享受) across the counties of the instance, found without breaking isolation.

* :mod:`~jiuzhu.duplicates.registry` — the platform's registry of who draws or asks for a periodic
  benefit, by ID-number blind index, read only through SECURITY DEFINER functions that answer the
  minimum (the other county's name, the category, the month benefits began);
* :mod:`~jiuzhu.duplicates.services` — the case's matches, the resolution an approver records before
  approving, 协查 between counties, and the nightly sweep that reports each county's duplicates.
"""
