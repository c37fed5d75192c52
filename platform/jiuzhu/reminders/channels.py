"""External channels: e-mail over SMTP and an SMS gateway's HTTP webhook, retried with back-off.

External deliveries are at-least-once: a worker killed after the gateway accepted a message but
before the delivery row was marked would send it again. Each request therefore carries an
idempotency key (``delivery-<id>``) the gateway can deduplicate on; the in-app inbox, written in the
claim's own transaction, is exactly once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage

from sqlalchemy import select

from jiuzhu.db import utcnow
from jiuzhu.reminders.models import ChannelKind, Delivery, DeliveryStatus, NotificationChannel

TIMEOUT_SECONDS = 10


class ChannelError(RuntimeError):
    pass


def send_email(config: dict, delivery: Delivery) -> None:
    msg = EmailMessage()
    msg["Subject"] = delivery.subject
    msg["From"] = config.get("sender") or "jiuzhu@localhost"
    msg["To"] = delivery.recipient
    msg["Message-ID"] = f"<delivery-{delivery.id}@jiuzhu>"
    msg.set_content(delivery.body)
    try:
        with smtplib.SMTP(config["host"], int(config.get("port", 25)), timeout=TIMEOUT_SECONDS) as smtp:
            if config.get("starttls"):
                smtp.starttls()
            if config.get("username"):
                smtp.login(config["username"], config.get("password", ""))
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException, KeyError) as exc:
        raise ChannelError(f"SMTP：{exc}") from exc


def send_webhook(config: dict, delivery: Delivery) -> None:
    payload = json.dumps({"id": f"delivery-{delivery.id}", "to": delivery.recipient,
                          "text": f"{delivery.subject} {delivery.body}"}, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": f"delivery-{delivery.id}"}
    if config.get("secret"):
        headers["X-Jiuzhu-Signature"] = hmac.new(config["secret"].encode(), payload, hashlib.sha256).hexdigest()
    request = urllib.request.Request(config.get("url", ""), data=payload, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            if response.status >= 300:
                raise ChannelError(f"网关返回 HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        raise ChannelError(f"网关返回 HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:
        raise ChannelError(f"无法连接短信网关：{exc}") from exc


SENDERS = {ChannelKind.email: send_email, ChannelKind.webhook: send_webhook}


def deliver_pending(session, *, now: dt.datetime | None = None, batch: int = 100) -> tuple[int, int]:
    """Attempt the current tenant's due deliveries. Returns (delivered, failed attempts)."""
    now = now or utcnow()
    delivered = failed = 0
    rows = session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.pending,
                                                  Delivery.next_attempt_at <= now)
                           .order_by(Delivery.next_attempt_at, Delivery.id).limit(batch)
                           .with_for_update(skip_locked=True)).all()
    if not rows:  # most sweeps: nothing to attempt, no channels to read
        session.commit()
        return 0, 0
    channels = {c.kind: c for c in session.scalars(select(NotificationChannel))}
    for d in rows:
        channel = channels.get(d.channel)
        if channel is None or not channel.enabled:
            d.status, d.last_error = DeliveryStatus.dead, "渠道未配置或已停用"
            continue
        d.attempts += 1
        try:
            SENDERS[d.channel](channel.config or {}, d)
        except ChannelError as exc:
            failed += 1
            d.last_error = str(exc)[:1000]
            if d.attempts > len(Delivery.BACKOFF):
                d.status = DeliveryStatus.dead
            else:
                d.next_attempt_at = now + Delivery.BACKOFF[d.attempts - 1]
            channel.consecutive_failures += 1
            channel.last_error = d.last_error
            if channel.failing and channel.failing_since is None:
                channel.failing_since = now
            continue
        delivered += 1
        d.status, d.delivered_at, d.last_error = DeliveryStatus.delivered, now, None
        channel.consecutive_failures, channel.failing_since, channel.last_success_at = 0, None, now
    session.commit()
    return delivered, failed
