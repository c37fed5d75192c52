"""Printable documents: the denial notice, the certificate (确认通知书), a case's complete file and a
publicity sheet — real PDFs whose embedded fonts are CJK fonts, with the case's words in them, and
reachable only by those who may see the case."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from jiuzhu.documents import FONT_STACK
from tests.pdfcheck import assert_cjk_fonts_embedded, keep, pdf_fonts, pdf_text
from tests.plugins.anhui_support import do
from tests.plugins.test_ningxia import CHECK, NEEDS, VISIT, apply, approved_case, ningxia_county

D = dt.date


@pytest.fixture
def county(world):
    return ningxia_county(world)


def denied_case(app) -> int:
    case_id = apply(app, on=D(2026, 4, 29))
    do(app, "nx-t1-staff", case_id, "acceptance", "accept", D(2026, 4, 29))
    do(app, "nx-t1-staff", case_id, "home_investigation", "done", D(2026, 5, 6), VISIT)
    do(app, "nx-t1-staff", case_id, "needs_assessment", "handled", D(2026, 5, 6), NEEDS)
    do(app, "nx-county", case_id, "economic_check", "reported", D(2026, 5, 8), {**CHECK, "result": "fail"})
    do(app, "nx-t1-staff", case_id, "appraisal", "done", D(2026, 5, 11),
       {"held_on": "2026-05-11", "participants": 9, "result": "多数认为收入超标"})
    do(app, "nx-t1-leader", case_id, "review_opinion", "propose_deny", D(2026, 5, 12), {"opinion": "收入超标"},
       reason="家庭人均收入高于低保标准")
    do(app, "nx-t1-leader", case_id, "decision", "deny", D(2026, 5, 13), reason="家庭人均月收入 980 元，高于当地低保标准 790 元")
    do(app, "nx-t1-staff", case_id, "denial_notice", "issued", D(2026, 5, 14))
    return case_id


def notice_links(client, case_id) -> list[str]:
    html = client.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    return re.findall(rf'href="(/admin/casework/{case_id}/notices/\d+\.pdf)"', html)


def test_the_denial_notice_is_a_pdf_in_the_plugins_words_with_cjk_fonts_embedded(app, county, client_for):
    case_id = denied_case(app)
    staff = client_for("nx-t1-staff")
    [link] = notice_links(staff, case_id)
    response = staff.get(link)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.get_data()
    assert data.startswith(b"%PDF")
    keep(data, "ningxia-denial-notice.pdf")
    text = re.sub(r"\s+", "", pdf_text(data))
    assert "不予批准通知书" in text and "救不批〔2026〕0001号" in text and "汪建国：" in text
    assert "家庭人均月收入980元，高于当地低保标准790元" in text
    assert "行政复议" in text and "nx第1镇人民政府" in text and "2026年5月14日" in text
    assert_cjk_fonts_embedded(data)


def test_the_certificate_and_the_case_file(app, county, client_for):
    case_id = approved_case(app)
    do(app, "nx-t1-staff", case_id, "certificate", "issued", D(2026, 5, 20))
    staff = client_for("nx-t1-staff")
    [link] = notice_links(staff, case_id)
    text = re.sub(r"\s+", "", pdf_text(staff.get(link).get_data()))
    assert "社会救助审核确认通知书" in text and "家庭月救助金额1710.00元" in text
    assert "保障人数4人" in text and "汪建国（户主）、李秀英（配偶）" in text and "nx第1镇人民政府" in text
    # a notice, worded as one: no certificate's 发证机关 nor 本证
    assert "发证机关" not in text and "本证" not in text and "特此通知" in text
    keep(staff.get(link).get_data(), "ningxia-certificate.pdf")
    data = staff.get(f"/admin/casework/{case_id}/file.pdf").get_data()
    keep(data, "ningxia-case-file.pdf")
    assert_cjk_fonts_embedded(data)
    text = re.sub(r"\s+", "", pdf_text(data))
    for expected in ("社会救助家庭档案", "汪建国", "李秀英", "汪丽", "入户核查", "审核确认（乡镇）", "马文静",
                     "已完成：确认给予", "社会救助审核确认通知书", "救确认〔2026〕0001号", "社会救助申请书"):
        assert expected in text, expected
    assert "已跳过" in text  # the appraisal, with its reason
    assert "申请对象没有争议，不再进行民主评议" in text


def test_documents_reach_only_those_who_may_see_the_case(app, county, world, client_for):
    case_id = denied_case(app)
    [link] = notice_links(client_for("nx-t1-staff"), case_id)
    world.county("ox", plugin="ningxia", townships=1, villages=1)
    for username in ("nx-t2-staff", "nx-t2-village", "ox-county", "ox-t1-staff"):
        client = client_for(username)
        assert client.get(link).status_code == 404, username
        assert client.get(f"/admin/casework/{case_id}/file.pdf").status_code == 404, username
    assert client_for("nx-county").get(link).status_code == 200
    assert client_for("nx-t1-village").get(f"/admin/casework/{case_id}/file.pdf").status_code == 200
    # a notice of another case cannot be fetched through this one
    other = denied_case(app)
    [other_link] = notice_links(client_for("nx-t1-staff"), other)
    notice_id = other_link.rsplit("/", 1)[1]
    assert client_for("nx-t1-staff").get(f"/admin/casework/{case_id}/notices/{notice_id}").status_code == 404


def test_a_latin_only_font_is_caught():
    """The font check itself: a PDF set in a Latin-only font fails it."""
    from weasyprint import HTML

    latin = HTML(string='<p style="font-family: DejaVu Sans">不予批准通知书 Notice</p>').write_pdf()
    assert any("CJK" not in f.name for f in pdf_fonts(latin))
    with pytest.raises(AssertionError, match="is not a CJK font"):
        assert_cjk_fonts_embedded(latin)
    assert "CJK" in FONT_STACK.split(",")[0]


def test_a_reprinted_one_time_notice_lists_what_was_missing_the_day_it_was_issued(app, county, client_for):
    from jiuzhu.extensions import db
    from jiuzhu.workflow import engine
    from tests.factories import acting

    case_id = apply(app, on=D(2026, 4, 29), provided=["application_form"])
    with acting(app, "nx-t1-staff") as user:
        engine.notify_missing_materials(db.session, user, case_id, on=D(2026, 4, 29))
        engine.provide_material(db.session, user, case_id, "authorization")
    staff = client_for("nx-t1-staff")
    [link] = notice_links(staff, case_id)
    text = re.sub(r"\s+", "", pdf_text(staff.get(link).get_data()))
    assert "社会救助申请材料一次性告知书" in text and "尚缺以下材料：家庭经济状况核查授权书（收入、财产、支出）" in text


@pytest.mark.parametrize("plugin_key", ["baseline", "shexian", "ningxia", "jingdezhen", "zongyang", "dangtu"])
def test_every_plugins_notices_print(app, world, plugin_key):
    """Each plugin's five notices render in its words, with its title and number, in CJK fonts."""
    from jiuzhu.cases.models import Case
    from jiuzhu.documents import notice_pdf
    from jiuzhu.extensions import db
    from jiuzhu.workflow import engine
    from tests.factories import acting, household_of_four

    code = f"n{plugin_key[:4]}"
    world.county(code, plugin=plugin_key, townships=1, villages=1)
    with acting(app, f"{code}-t1-staff") as user:
        household = household_of_four(db.session, user, seq=1)
        case = engine.open_case(db.session, user, household=household, categories=["dibao"], channel="window",
                                applied_on=D(2026, 4, 29), via_platform=["id_and_register"])
        case.decision_reason, case.decided_on = "家庭人均月收入高于当地低保标准", D(2026, 5, 20)
        plugin = engine.plugin_for(case)
        case.closed_on = D(2026, 7, 1)  # (for the revocation notice: the day the confirmation was revoked)
        for kind in ("missing_materials", "not_accepted", "denial", "certificate", "revocation"):
            notice = engine.issue_notice(db.session, user, db.session.get(Case, case.id), kind, D(2026, 5, 20),
                                         {"missing": [{"key": "authorization", "label": "核查授权书"}]})
            data = notice_pdf(db.session, notice)
            assert_cjk_fonts_embedded(data)
            text = re.sub(r"\s+", "", pdf_text(data))
            assert plugin.notice_title(kind) in text and notice.number in text and "汪建国" in text, (kind, text)
            assert "”。。" not in text and "。。" not in text
        db.session.rollback()


def test_the_case_file_prints_no_internal_path_no_doubled_stops_and_rows_that_fit(app, county, client_for):
    """一户一档 as a county files it: the rules named by their document (never a path of ours), a reason
    ending in a full stop not followed by another mark, and the process table in fixed columns."""
    case_id = approved_case(app)
    staff = client_for("nx-t1-staff")
    data = staff.get(f"/admin/casework/{case_id}/file.pdf").get_data()
    text = re.sub(r"\s+", "", pdf_text(data))
    assert "seeds/" not in text and ".txt" not in text
    assert "宁夏" in text  # the rules' document, named
    for doubled in ("。；", "。。", "；；", "。，"):
        assert doubled not in text, doubled
    assert app.jinja_env.filters["no_end_stop"]("核对和调查均无疑义。") + "；" == "核对和调查均无疑义；"


def test_printing_gives_back_what_the_pdf_took_and_logs_none_of_its_steps(app, county, client_for, caplog):
    """Laying out a PDF with a CJK font leaves objects in reference cycles that only a full
    collection frees (a web worker printing case files grew from about 100 MB to 950 MB in four
    minutes): printing collects them itself, so none is left for later. WeasyPrint's eight progress
    lines a document are not logged at the default level."""
    import gc
    import logging

    case_id = approved_case(app)
    staff = client_for("nx-t1-staff")
    staff.get(f"/admin/casework/{case_id}")  # the page's own objects made before the count
    gc.collect()
    with caplog.at_level(logging.INFO):
        response = staff.get(f"/admin/casework/{case_id}/file.pdf")
    assert response.status_code == 200 and response.get_data().startswith(b"%PDF")
    left = gc.collect()
    assert left < 500, f"{left} objects in reference cycles left behind by one PDF"
    assert not [r for r in caplog.records if r.name.startswith("weasyprint.progress")]
