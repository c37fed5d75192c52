"""Scans and photos of materials: uploaded on the case page (by the village for an applicant, or by
staff) or through the API, ticking the checklist line; only PDF, JPEG or PNG up to 5 MB, anything else
refused with a message and nothing written; read back only where the case may be seen."""

from __future__ import annotations

import base64
import io
import re

import pytest
from sqlalchemy import func, select

from jiuzhu.audit.models import AuditEvent
from jiuzhu.auth.roles import Role
from jiuzhu.cases.files import MAX_FILE_BYTES, clean_filename
from jiuzhu.cases.models import CaseMaterial, MaterialFile
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.workflow import engine
from tests.api_helpers import api_redis, auth, make_token  # noqa: F401 — the fixture
from tests.conftest import csrf_token
from tests.factories import acting, household_of_four

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9"


@pytest.fixture
def county(world):
    info = world.county("base", plugin="baseline", townships=2, villages=2)
    world.county("obase", plugin="baseline", townships=1, villages=1)
    return info


_seq = iter(range(1, 1000))


def new_case(app, username: str, channel: str = "window") -> int:
    """An application with nothing but the household register (from the platform) in hand."""
    with acting(app, username) as user:
        household = household_of_four(db.session, user, seq=next(_seq))
        return engine.open_case(db.session, user, household=household, categories=["dibao"], channel=channel,
                                applied_on=household.created_at.date(), via_platform=["id_and_register"]).id


def rows(app, tenant_id, model, *where) -> int:
    with app.app_context(), use_scope(Scope(tenant_id)):
        n = db.session.scalar(select(func.count()).select_from(model).where(*where))
        db.session.remove()
        return n


def provided(app, tenant_id, case_id, key) -> bool:
    with app.app_context(), use_scope(Scope(tenant_id)):
        value = db.session.scalar(select(CaseMaterial.provided).where(CaseMaterial.case_id == case_id,
                                                                       CaseMaterial.key == key))
        db.session.remove()
        return value


def upload(client, case_id, key, data: bytes, name: str):
    page = client.get("/admin/").get_data(as_text=True)
    return client.post(f"/admin/casework/{case_id}/materials/{key}/files",
                       data={"csrf_token": csrf_token(page), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_the_village_uploads_a_scan_for_the_applicant_and_staff_read_it_back(app, county, client_for):
    case_id = new_case(app, "base-t1-village", "village_proxy")
    village = client_for("base-t1-village")
    html = upload(village, case_id, "application_form", PDF, "申请书 扫描.PDF").get_data(as_text=True)
    assert "已上传材料。" in html and "申请书 扫描.pdf" in html
    assert provided(app, county["id"], case_id, "application_form")
    link = re.search(rf'href="(/admin/casework/{case_id}/files/\d+)"', html).group(1)
    staff = client_for("base-t1-staff")
    response = staff.get(link)
    assert response.status_code == 200 and response.mimetype == "application/pdf" and response.data == PDF
    # the audit trail names the file and its hash, never its bytes
    with app.app_context(), use_scope(Scope(county["id"])):
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "case_material_files")).one()
        assert event.after["filename"] == "申请书 扫描.pdf" and len(event.after["sha256"]) == 64
        assert event.after["data"] != base64.b64encode(PDF).decode() and "%PDF" not in str(event.after)
        db.session.remove()


def test_anything_but_a_pdf_jpeg_or_png_is_refused_and_nothing_written(app, county, client_for):
    case_id = new_case(app, "base-t1-staff")
    staff = client_for("base-t1-staff")
    html = upload(staff, case_id, "authorization", b"#!/bin/sh\necho hi\n", "授权书.pdf").get_data(as_text=True)
    assert "文件：只接受 PDF、JPEG 或 PNG 格式的扫描件或照片。" in html
    html = upload(staff, case_id, "authorization", b"", "空.pdf").get_data(as_text=True)
    assert "文件：文件为空。" in html
    html = upload(staff, case_id, "authorization", b"%PDF-" + b"0" * MAX_FILE_BYTES, "大.pdf").get_data(as_text=True)
    assert "文件：文件超过 5 MB 上限" in html
    html = upload(staff, case_id, "nothing", PDF, "x.pdf").get_data(as_text=True)
    assert "材料清单中没有“nothing”。" in html
    assert rows(app, county["id"], MaterialFile) == 0
    assert not provided(app, county["id"], case_id, "authorization")
    too_big = upload(staff, case_id, "authorization", b"%PDF-" + b"0" * (16 * 1024 * 1024), "巨.pdf")
    assert too_big.status_code == 413 and "超过大小限制" in too_big.get_data(as_text=True)
    from jiuzhu.tenancy.context import current_scope

    assert current_scope() is None  # the refused request left no scope behind on this thread
    html = upload(staff, case_id, "authorization", JPEG, "../../etc/授权书").get_data(as_text=True)
    assert "授权书.jpg" in html and rows(app, county["id"], MaterialFile) == 1


def test_files_reach_only_those_who_may_see_the_case(app, county, client_for):
    case_id = new_case(app, "base-t1-staff")
    html = upload(client_for("base-t1-staff"), case_id, "application_form", PDF, "a.pdf").get_data(as_text=True)
    link = re.search(rf'href="(/admin/casework/{case_id}/files/\d+)"', html).group(1)
    for username in ("base-t2-staff", "base-t2-village", "obase-county", "obase-t1-staff"):
        client = client_for(username)
        assert client.get(link).status_code == 404, username
        assert upload(client, case_id, "authorization", PDF, "b.pdf").status_code == 404, username
    assert client_for("base-county").get(link).status_code == 200
    admin = client_for("base-admin")  # reads every case of the county, uploads nothing
    assert admin.get(link).status_code == 200
    assert upload(admin, case_id, "authorization", PDF, "c.pdf").status_code == 403
    assert rows(app, county["id"], MaterialFile) == 1


def test_the_api_attaches_a_file_once_however_often_it_retries(app, county):
    case_id = new_case(app, "base-t1-staff")
    secret = make_token(app, county, role=Role.township_staff, unit_id=county["towns"][0])
    client = app.test_client()
    body = {"key": "authorization", "file": {"filename": "授权书.png",
                                             "content_base64": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"1" * 64).decode()}}
    first = client.post(f"/api/v1/cases/{case_id}/materials", json=body, headers=auth(secret, "up-1"))
    assert first.status_code == 200, first.get_json()
    again = client.post(f"/api/v1/cases/{case_id}/materials", json=body, headers=auth(secret, "up-1"))
    assert again.get_json() == first.get_json()
    [material] = [m for m in first.get_json()["materials"] if m["key"] == "authorization"]
    assert material["provided"] and [(f["filename"], f["content_type"]) for f in material["files"]] == [
        ("授权书.png", "image/png")]
    assert rows(app, county["id"], MaterialFile) == 1
    bad = client.post(f"/api/v1/cases/{case_id}/materials", headers=auth(secret, "up-2"),
                      json={"key": "commitment", "file": {"content_base64": base64.b64encode(b"hello").decode()}})
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"]["file"] == [
        "只接受 PDF、JPEG 或 PNG 格式的扫描件或照片。"]
    garbled = client.post(f"/api/v1/cases/{case_id}/materials", headers=auth(secret, "up-3"),
                          json={"key": "commitment", "file": {"content_base64": "@@@@"}})
    assert garbled.status_code == 422 and "file.content_base64" in garbled.get_json()["error"]["fields"]
    assert rows(app, county["id"], MaterialFile) == 1 and not provided(app, county["id"], case_id, "commitment")


def test_file_names_lose_paths_and_control_characters():
    assert clean_filename("../../etc/passwd", ".pdf") == "passwd.pdf"
    assert clean_filename("C:\\扫描\\户口簿.JPG", ".jpg") == "户口簿.jpg"
    assert clean_filename("a\x00b<c>.png", ".png") == "abc.png"
    assert clean_filename(None, ".pdf") == "材料.pdf"
