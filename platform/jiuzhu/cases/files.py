"""Scans and photos of a case's materials: attach (ticking the checklist line), read back.

Only what a county can file is taken: PDF, JPEG or PNG, recognised by their first bytes (not by the
name or the declared type), at most :data:`MAX_FILE_BYTES`. Attaching is not deciding: a village
assistant may upload for an applicant, like township and county staff; the case must be open.
"""

from __future__ import annotations

import hashlib
import os
import re

from jiuzhu.auth.models import User
from jiuzhu.auth.roles import Role
from jiuzhu.cases.models import MaterialFile
from jiuzhu.errors import NotFound, PermissionDenied, ValidationError
from jiuzhu.workflow import engine

#: the largest file taken (a scanned multi-page PDF of a household register fits easily)
MAX_FILE_BYTES = 5 * 1024 * 1024
#: the first bytes of each accepted kind → its content type and extension
SIGNATURES = ((b"%PDF-", "application/pdf", ".pdf"), (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
              (b"\x89PNG\r\n\x1a\n", "image/png", ".png"))
UPLOADERS = frozenset({Role.village_assistant, Role.township_staff, Role.township_leader, Role.county_staff})


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a PDF, JPEG or PNG; None for anything else."""
    for magic, content_type, ext in SIGNATURES:
        if data.startswith(magic):
            return content_type, ext
    return None


def clean_filename(name: str | None, ext: str) -> str:
    """The file's own name without any path, control or separator characters, at most 100 characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]", "", base).strip(" .") or "材料"
    stem = base[:-len(ext)] if base.lower().endswith(ext) else os.path.splitext(base)[0] or base
    return stem[:100] + ext


def attach_file(session, user: User, case_id: int, key: str, *, filename: str | None, data: bytes) -> MaterialFile:
    """Attach one file to the checklist line ``key`` and tick it as provided, in one transaction."""
    if user.role not in UPLOADERS:
        raise PermissionDenied(f"{user.role.label}不能上传申请材料。")
    errors = []
    kind = sniff(data or b"")
    if not data:
        errors.append("文件为空。")
    elif len(data) > MAX_FILE_BYTES:
        errors.append(f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MB 上限，请压缩或分页扫描后上传。")
    elif kind is None:
        errors.append("只接受 PDF、JPEG 或 PNG 格式的扫描件或照片。")
    if errors:
        raise ValidationError(field_errors={"file": errors})
    material = engine.provide_material(session, user, case_id, key)  # locks the case, checks it is open
    content_type, ext = kind
    row = MaterialFile(case_id=case_id, material_id=material.id, tenant_id=material.tenant_id,
                       filename=clean_filename(filename, ext), content_type=content_type, size=len(data),
                       sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_by_id=user.id,
                       uploaded_by_name=user.full_name)
    material.files.append(row)
    session.flush()  # the audit trail records the insert: name, type, size, SHA-256 (never the bytes)
    return row


def file_of(session, case_id: int, file_id: int) -> MaterialFile:
    """A file of the case, in the current scope (NotFound otherwise)."""
    row = session.get(MaterialFile, file_id)
    if row is None or row.case_id != case_id:
        raise NotFound("该材料文件不存在，或不在您的管辖范围内。")
    return row


__all__ = ["attach_file", "file_of", "sniff", "clean_filename", "MAX_FILE_BYTES"]

