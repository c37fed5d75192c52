"""Security headers on every response.

* ``Content-Security-Policy``: scripts only from this origin or carrying the request's nonce (no
  ``unsafe-inline`` for scripts; Flask-Admin's own templates take the nonce through
  ``csp_nonce_generator``); styles from this origin and inline ``style`` attributes (which cannot
  run code); no plugins, no framing, forms post only here.
* ``Strict-Transport-Security`` on requests that arrived over HTTPS (behind the proxy, see
  ``JIUZHU_TRUSTED_PROXIES``), never on plain HTTP where it would be ignored anyway.
* ``Cache-Control: no-store`` on everything but static assets: pages, exports and PDFs carry
  personal data and must not stay in a shared or browser cache.

Flask-Admin's bundled templates put a few handlers in attributes (``onclick="return false;"``, the
delete confirmation, bulk actions) and ``href="javascript:void(0)"``, which such a policy refuses.
Rather than fork those templates, :func:`rewrite_inline_handlers` turns exactly those known
attributes into data attributes on admin pages, and ``static/jiuzhu/admin.js`` gives them their
behaviour; a test fails if any other handler attribute appears on a screen.
"""

from __future__ import annotations

import re
import secrets

from flask import Flask, g, request
from markupsafe import escape

STATIC_PREFIXES = ("/admin/static/", "/static/")
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


def csp_nonce() -> str:
    """This request's nonce (made on first use)."""
    nonce = g.get("_csp_nonce")
    if nonce is None:
        nonce = g._csp_nonce = secrets.token_urlsafe(16)
    return nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


_CONFIRM = re.compile(r"onclick=\"return faHelpers\.safeConfirm\('((?:[^'\\]|\\.)*)'\);\"")
_ACTION = re.compile(r"onclick=\"return modelActions\.execute\('([\w-]+)'\);\"")


def rewrite_inline_handlers(html: str) -> str:
    """Flask-Admin's known inline handlers as data attributes (see the module doc)."""
    html = html.replace(' onclick="return false;"', "")
    html = html.replace('href="javascript:void(0)"', 'href="#" data-jz-noop')
    html = _CONFIRM.sub(lambda m: f'data-jz-confirm="{escape(m.group(1))}"', html)
    return _ACTION.sub(lambda m: f'data-jz-action="{m.group(1)}"', html)


def init_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _security_headers(response):
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if not request.path.startswith(STATIC_PREFIXES):
            h["Cache-Control"] = "no-store"
            h["Pragma"] = "no-cache"
            if (request.path.startswith("/admin/") and response.mimetype == "text/html"
                    and not response.is_streamed and response.direct_passthrough is False):
                body = response.get_data(as_text=True)
                if "onclick=" in body or "javascript:" in body:
                    response.set_data(rewrite_inline_handlers(body))
        return response
