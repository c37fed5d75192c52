"""The second factor: time-based one-time passwords (TOTP, RFC 6238) from an authenticator app, and
one-time recovery codes for a lost phone.

Required for county admins and the platform operator, and for the roles a county's security policy
names (安全策略); anyone may turn it on for their own account. The secret is encrypted at rest like
every other secret of the county; a code is accepted within one 30-second step either side of now,
and never twice (the step last used is kept), so a code seen over a shoulder cannot be replayed.
Recovery codes are shown once, stored as SHA-256 digests, and each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp

ISSUER = "救助 Jiuzhu"
STEP = 30
RECOVERY_CODES = 10


def new_secret() -> str:
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret, interval=STEP).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (no image leaves the server, no external service)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False, svgns=True,
                                    title="动态口令二维码")
    return out.getvalue().decode()


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).lower()


def matching_step(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side), if it was not used yet."""
    code = _normalise(code)
    if not (len(code) == 6 and code.isdigit()):
        return None
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret, interval=STEP)
    current = int(now // STEP)
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of ten characters (xxxxx-xxxxx), easy to type, 50 bits each."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return ["".join(secrets.choice(alphabet) for _ in range(5)) + "-" + "".join(secrets.choice(alphabet)
                                                                               for _ in range(5))
            for _ in range(RECOVERY_CODES)]


def digest(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def use_recovery_code(stored: list[str], code: str) -> list[str] | None:
    """The remaining digests if ``code`` is one of them (it is used up), else None."""
    wanted = digest(code)
    for i, d in enumerate(stored or []):
        if hmac.compare_digest(d, wanted):
            return stored[:i] + stored[i + 1:]
    return None
