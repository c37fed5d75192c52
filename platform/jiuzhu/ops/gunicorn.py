"""gunicorn's side of the logs (``logger_class`` in ``deploy/gunicorn.conf.py``): access lines and
gunicorn's own messages in the same format as the application's (JIUZHU_LOG_FORMAT).

An access line says method, path, status, bytes, duration, the request id the application answered
with, and the peer — never the query string nor the referrer, which carry what people searched for
(names, ID numbers).
"""

from __future__ import annotations

import datetime as dt
import json
import os

from gunicorn.glogging import Logger

from jiuzhu.ops.logs import formatter


def _format() -> str:
    return (os.environ.get("JIUZHU_LOG_FORMAT") or "json").strip().lower()


class JiuzhuLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        if _format() == "json":
            for handler in self.error_log.handlers:
                handler.setFormatter(formatter("json"))

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = dict((k.lower(), v) for k, v in (resp.headers or []))
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": int(status) if str(status).isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": headers.get("x-request-id"),
            "remote_addr": environ.get("REMOTE_ADDR"),
        }
        if _format() == "json":
            line = json.dumps({"ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), "level": "info",
                               "logger": "gunicorn.access",
                               "message": f"{fields['method']} {fields['path']} {fields['status']}", **fields},
                              ensure_ascii=False)
        else:
            line = " ".join(str(fields[k]) if fields[k] is not None else "-" for k in
                            ("remote_addr", "method", "path", "status", "bytes")) + \
                f" {fields['duration_ms']}ms {fields['request_id'] or '-'}"
        try:
            self.access_log.info(line)
        except Exception:  # noqa: BLE001 — a log line must never fail a request
            self.error("access log line failed")
