"""Keys held outside the database: where they come from, what each is for, which one is active.

A key document is JSON, from the file named by ``JIUZHU_KEYS_FILE`` or from the ``JIUZHU_KEYS``
environment variable (a secrets manager's injection)::

    {"format": "jiuzhu-keys/1",
     "field":       {"active": "f2", "keys": {"f1": "<base64, 16 bytes>", "f2": "…"}},
     "blind_index": {"active": "b1", "keys": {"b1": "<base64, 32 bytes>"}},
     "audit":       {"active": "a1", "keys": {"a1": "<base64, 32 bytes>"}}}

Three purposes, each with its own keys and its own active key, so that one can be rotated without
touching the others:

* ``field`` — SM4 data keys (128 bits) for field encryption (SM4-GCM). New values are encrypted
  under the active key; every value names the key it was encrypted with, so older keys keep
  decrypting until ``flask keys rotate`` has moved every value to the active one.
* ``blind_index`` — HMAC-SM3 keys for blind indexes (exact lookups by ID number). Platform-wide,
  not per county, so that equal numbers match across counties (the duplicate-benefit registry).
* ``audit`` — HMAC-SM3 keys for the audit chain and the signed anchors of its heads. Old audit keys
  stay as long as events carry their id: an append-only chain is never re-keyed.

Key ids are short (``[A-Za-z0-9_-]{1,16}``) and unique across purposes. The database only ever
sees key ids, never key material.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jiuzhu.config import ConfigError

FORMAT = "jiuzhu-keys/1"
KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")

#: purpose → (key length in bytes, prefix of generated key ids)
PURPOSES: dict[str, tuple[int, str]] = {"field": (16, "f"), "blind_index": (32, "b"), "audit": (32, "a")}


class UnknownKeyError(LookupError):
    """A value names a key id this instance does not hold."""


@dataclass(frozen=True)
class KeySet:
    """The keys of one purpose; ``active_id`` is the one new values use."""

    purpose: str
    active_id: str
    keys: Mapping[str, bytes]

    def active(self) -> tuple[str, bytes]:
        return self.active_id, self.keys[self.active_id]

    def get(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise UnknownKeyError(f"no {self.purpose} key with id {key_id!r} is configured") from None

    @property
    def ids(self) -> list[str]:
        """The active id first, then the others in the document's order."""
        return [self.active_id] + [k for k in self.keys if k != self.active_id]


@dataclass(frozen=True)
class Keyring:
    field: KeySet
    blind_index: KeySet
    audit: KeySet
    #: where the keys came from, for messages (a variable name or a path, never key material)
    source: str

    def purpose(self, name: str) -> KeySet:
        return getattr(self, name)


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("is not valid base64") from None


def parse_keyring(document: Mapping[str, Any], source: str) -> Keyring:
    """Validate a key document; raise :class:`ConfigError` naming the first problem (never a key)."""
    if not isinstance(document, Mapping):
        raise ConfigError(f"{source}: the key document must be a JSON object")
    if document.get("format") != FORMAT:
        raise ConfigError(f"{source}: \"format\" must be {FORMAT!r}")
    sets: dict[str, KeySet] = {}
    seen_ids: set[str] = set()
    for purpose, (length, _) in PURPOSES.items():
        section = document.get(purpose)
        if not isinstance(section, Mapping) or not isinstance(section.get("keys"), Mapping) or not section["keys"]:
            raise ConfigError(f"{source}: \"{purpose}\" must hold \"active\" and at least one key in \"keys\"")
        keys: dict[str, bytes] = {}
        for key_id, encoded in section["keys"].items():
            if not KEY_ID_RE.match(str(key_id)):
                raise ConfigError(f"{source}: key id {key_id!r} of \"{purpose}\" must be 1–16 of A–Z a–z 0–9 _ -")
            if key_id in seen_ids:
                raise ConfigError(f"{source}: key id {key_id!r} is used twice; ids must be unique across purposes")
            seen_ids.add(key_id)
            try:
                material = _b64(encoded) if isinstance(encoded, str) else b""
            except ValueError:
                material = b""
            if len(material) != length:
                raise ConfigError(f"{source}: {purpose} key {key_id!r} must be {length} bytes in base64")
            keys[key_id] = material
        active = section.get("active")
        if active not in keys:
            raise ConfigError(f"{source}: the active {purpose} key {active!r} is not among its keys")
        sets[purpose] = KeySet(purpose, active, keys)
    return Keyring(field=sets["field"], blind_index=sets["blind_index"], audit=sets["audit"], source=source)


def read_key_file(path: str | os.PathLike) -> dict:
    p = Path(path)
    try:
        info = p.stat()
    except FileNotFoundError:
        raise ConfigError(f"JIUZHU_KEYS_FILE={str(p)!r} does not exist. Generate one with "
                          f"`python -m jiuzhu.crypto generate {p}`.") from None
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(f"JIUZHU_KEYS_FILE={str(p)!r} may be written by group or others; "
                          f"`chmod 600` it (whoever can replace the keys can read the data).")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"JIUZHU_KEYS_FILE={str(p)!r} is not a readable JSON key document: "
                          f"{type(exc).__name__}") from None


def load_keyring(config: Mapping[str, Any]) -> Keyring:
    """The keyring from ``JIUZHU_KEYS`` or ``JIUZHU_KEYS_FILE``; exactly one of them must be set."""
    inline, path = config.get("JIUZHU_KEYS"), config.get("JIUZHU_KEYS_FILE")
    if inline and path:
        raise ConfigError("Both JIUZHU_KEYS and JIUZHU_KEYS_FILE are set; set one, so that there is one "
                          "truth about the keys.")
    if not inline and not path:
        raise ConfigError("No encryption keys: set JIUZHU_KEYS_FILE to a key file (create one with "
                          "`python -m jiuzhu.crypto generate /etc/jiuzhu/keys.json`, mode 600) or JIUZHU_KEYS "
                          "to its JSON. Personal data is encrypted with these keys and the audit chain is "
                          "keyed with them; the application does not start without them.")
    if inline:
        if isinstance(inline, Mapping):
            return parse_keyring(inline, "JIUZHU_KEYS")
        try:
            document = json.loads(inline)
        except json.JSONDecodeError:
            raise ConfigError("JIUZHU_KEYS is not valid JSON") from None
        return parse_keyring(document, "JIUZHU_KEYS")
    return parse_keyring(read_key_file(path), f"JIUZHU_KEYS_FILE={str(path)!r}")


# -- making and changing key documents (no application needed) ----------------------------------

def new_key(purpose: str) -> str:
    return base64.b64encode(secrets.token_bytes(PURPOSES[purpose][0])).decode()


def generate_document() -> dict:
    """A fresh key document: one random key per purpose, each active."""
    document: dict[str, Any] = {"format": FORMAT}
    for purpose, (_, prefix) in PURPOSES.items():
        key_id = f"{prefix}1"
        document[purpose] = {"active": key_id, "keys": {key_id: new_key(purpose)}}
    return document


def add_key(document: dict, purpose: str) -> str:
    """Add a fresh key to ``purpose`` and make it the active one; return its id."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}; one of {', '.join(PURPOSES)}")
    prefix = PURPOSES[purpose][1]
    taken = {k for p in PURPOSES for k in document.get(p, {}).get("keys", {})}
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    key_id = f"{prefix}{n}"
    document[purpose]["keys"][key_id] = new_key(purpose)
    document[purpose]["active"] = key_id
    return key_id


def remove_key(document: dict, key_id: str) -> str:
    """Remove an inactive key; return its purpose."""
    for purpose in PURPOSES:
        section = document.get(purpose, {})
        if key_id in section.get("keys", {}):
            if section.get("active") == key_id:
                raise ValueError(f"{key_id} is the active {purpose} key; add a new one before retiring it")
            del section["keys"][key_id]
            return purpose
    raise ValueError(f"no key with id {key_id!r}")


def write_key_file(path: str | os.PathLike, document: dict, *, replace: bool) -> None:
    """Write atomically with mode 600 (a crash leaves the old file or the new one, never half)."""
    p = Path(path)
    if p.exists() and not replace:
        raise FileExistsError(f"{p} exists; refusing to overwrite keys")
    parse_keyring(document, str(p))  # never write a document the application would refuse
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, p)


__all__ = ["FORMAT", "PURPOSES", "KeySet", "Keyring", "UnknownKeyError", "add_key", "generate_document",
           "load_keyring", "parse_keyring", "read_key_file", "remove_key", "write_key_file"]
