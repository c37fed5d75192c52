"""Chinese by default, English available; the English catalog is complete and compiled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "platform/jiuzhu/translations/en/LC_MESSAGES"


def test_chinese_by_default(app, world, client_for):
    world.county("lang", plugin="baseline", townships=1, villages=1)
    html = client_for("lang-t1-staff").get("/admin/").get_data(as_text=True)
    assert ">我的待办<" in html and ">退出<" in html


def test_english_on_request_and_kept_for_the_session(app, world, client_for):
    world.county("lang", plugin="baseline", townships=1, villages=1)
    assert "Sign in" in app.test_client().get("/login?lang=en").get_data(as_text=True)
    client = client_for("lang-t1-staff")
    client.get("/admin/?lang=en")
    html = client.get("/admin/casework/").get_data(as_text=True)
    assert "<title>My worklist · Jiuzhu</title>" in html and "All categories" in html and ">Sign out<" in html
    assert ">我的待办<" in client.get("/admin/?lang=zh_Hans_CN").get_data(as_text=True)


def test_every_message_of_the_source_is_translated_and_the_mo_is_current(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), str(ROOT)], check=True, cwd=ROOT,
                   capture_output=True)
    with pot.open("rb") as f:
        source = {m.id for m in read_po(f) if m.id}
    with (CATALOG / "messages.po").open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    untranslated = sorted(i for i in source if not po.get(i))
    assert untranslated == [], "run scripts/translations.py and translate these"
    with (CATALOG / "messages.mo").open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert {k: v for k, v in po.items() if k in source} == {k: v for k, v in mo.items() if k in source}


def test_the_domains_words_are_english_on_request(app, world, client_for):
    """Statuses, steps, outcomes, categories, form labels, deadlines, chart legends and settings: the
    words of the domain are data in the code, shown through the catalog like any other text."""
    import datetime as dt

    from jiuzhu.clock import china_today
    from tests.test_workflow_baseline import do, new_case

    world.county("base", plugin="baseline", townships=1, villages=1)
    applied = china_today() - dt.timedelta(days=3)
    case_id = new_case(app, on=applied)
    do(app, "base-t1-staff", case_id, "acceptance", "accept", applied)
    staff = client_for("base-t1-staff")
    staff.get("/admin/?lang=en")
    page = staff.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    for english in ("Under review", "Home investigation", "Minimum living allowance (dibao)",
                    "Investigation done", "Date of the visit", "Any doubt", "working days left", "At the service window"):
        assert english in page, english
    for chinese in ("审核中", "入户调查", "完成调查", "入户日期", "个工作日"):
        assert chinese not in page, chinese
    worklist = staff.get("/admin/casework/").get_data(as_text=True)
    assert "Home investigation" in worklist and "working days left" in worklist

    county = client_for("base-county")
    county.get("/admin/?lang=en")
    dashboard = county.get("/admin/dashboard/").get_data(as_text=True)
    assert "Overdue and due soon by township" in dashboard and "Applications per month (by category)" in dashboard
    assert "月</text>" not in dashboard  # months named in English too
    admin = client_for("base-admin")
    admin.get("/admin/?lang=en")
    settings = admin.get("/admin/settings/").get_data(as_text=True)
    assert "Dibao standard (yuan per person per month)" in settings and "城乡低保标准" not in settings
