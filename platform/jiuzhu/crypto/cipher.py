"""SM4-GCM envelopes and HMAC-SM3, on ``cryptography`` (OpenSSL).

A text envelope is ``E1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>``: the format version,
the id of the SM4 key it was encrypted with (so that keys rotate value by value), a random 96-bit
nonce per value, and GCM's 128-bit tag. A binary envelope is the same with the raw bytes after
``E1.<key id>.``. The associated data — authenticated, not stored — names where the value lives
(``table.column``) and its county, so a ciphertext copied into another column or another county's
row does not decrypt there (see :func:`associated_data`).

Overhead per value: 12 + 16 bytes, then base64 (4/3) and the prefix: an 18-character ID number
becomes 68 characters.
"""

from __future__ import annotations

import base64
import hmac as std_hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from jiuzhu.crypto.keys import KeySet, UnknownKeyError

VERSION = "E1"
PREFIX = VERSION + "."
BINARY_PREFIX = PREFIX.encode()
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(ValueError):
    """A stored value is not an envelope, names an unknown key, or fails authentication (altered,
    moved to another column or county, or encrypted under another key). Never carries the value."""


def associated_data(context: str, tenant_id: int | None) -> bytes:
    """What a ciphertext is bound to: its ``table.column`` and its county (``-`` for platform rows)."""
    return f"jiuzhu|{VERSION}|{context}|{'-' if tenant_id is None else int(tenant_id)}".encode()


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return nonce + body + encryptor.tag


def _open(key: bytes, blob: bytes, aad: bytes, where: str) -> bytes:
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError(f"{where}: the envelope is truncated")
    nonce, body, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError(f"{where}: authentication failed (altered, moved, or another key)") from None


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt_text(keys: KeySet, plaintext: bytes, aad: bytes) -> str:
    key_id, key = keys.active()
    return f"{PREFIX}{key_id}.{_b64e(_seal(key, plaintext, aad))}"


def envelope_key_id(token: str) -> str | None:
    """The key id a text envelope names, or None when it is not an envelope."""
    if not isinstance(token, str) or not token.startswith(PREFIX):
        return None
    key_id, sep, _ = token[len(PREFIX):].partition(".")
    return key_id if sep else None


def decrypt_text(keys: KeySet, token: str, aad: bytes, where: str = "value") -> bytes:
    key_id = envelope_key_id(token)
    if key_id is None:
        raise DecryptionError(f"{where}: not an encrypted value (clear text where ciphertext belongs)")
    try:
        key = keys.get(key_id)
    except UnknownKeyError:
        raise DecryptionError(f"{where}: encrypted under key {key_id!r}, which is not configured") from None
    try:
        blob = _b64d(token[len(PREFIX) + len(key_id) + 1:])
    except ValueError:
        raise DecryptionError(f"{where}: the envelope is not valid base64") from None
    return _open(key, blob, aad, where)


def encrypt_bytes(keys: KeySet, plaintext: bytes, aad: bytes) -> bytes:
    key_id, key = keys.active()
    return BINARY_PREFIX + key_id.encode() + b"." + _seal(key, plaintext, aad)


def binary_key_id(blob: bytes) -> str | None:
    blob = bytes(blob)
    if not blob.startswith(BINARY_PREFIX):
        return None
    end = blob.find(b".", len(BINARY_PREFIX), len(BINARY_PREFIX) + 17)
    return blob[len(BINARY_PREFIX):end].decode("ascii", "replace") if end > 0 else None


def decrypt_bytes(keys: KeySet, blob: bytes, aad: bytes, where: str = "value") -> bytes:
    blob = bytes(blob)
    key_id = binary_key_id(blob)
    if key_id is None:
        raise DecryptionError(f"{where}: not an encrypted value (clear bytes where ciphertext belongs)")
    try:
        key = keys.get(key_id)
    except UnknownKeyError:
        raise DecryptionError(f"{where}: encrypted under key {key_id!r}, which is not configured") from None
    return _open(key, blob[len(BINARY_PREFIX) + len(key_id) + 1:], aad, where)


def hmac_sm3(key: bytes, message: bytes) -> str:
    """Hex HMAC-SM3 (GB/T 32905 hash in RFC 2104's construction)."""
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(message)
    return mac.finalize().hex()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two hex MACs."""
    return std_hmac.compare_digest(a.encode(), b.encode())


__all__ = ["DecryptionError", "associated_data", "binary_key_id", "decrypt_bytes", "decrypt_text", "encrypt_bytes",
           "encrypt_text", "envelope_key_id", "hmac_sm3", "same"]
