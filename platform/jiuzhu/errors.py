"""Errors the service layer raises for bad input; screens, the CLI and the API show their messages."""

from __future__ import annotations


class ServiceError(Exception):
    """Refused input or action. ``messages`` are for people (Chinese); ``code`` for machines."""

    code = "invalid"

    def __init__(self, *messages: str, code: str | None = None, field_errors: dict[str, list[str]] | None = None):
        self.messages = [m for m in messages if m]
        self.field_errors = field_errors or {}
        if code:
            self.code = code
        super().__init__("；".join(self.all_messages()))

    def all_messages(self) -> list[str]:
        out = list(self.messages)
        for msgs in self.field_errors.values():
            out.extend(msgs)
        return out


class ValidationError(ServiceError):
    code = "invalid"


class PermissionDenied(ServiceError):
    code = "forbidden"


class NotFound(ServiceError):
    code = "not_found"
