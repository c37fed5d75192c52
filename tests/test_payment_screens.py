"""保障金发放 on the case page: the county records each month paid (权钱分离 — the county pays, never a
township or a village), sees what is due and late; temporary relief stages are paid with a voucher by
the township or the county. Other counties, townships and villages get nothing of it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from jiuzhu.clock import china_today
from tests.conftest import csrf_token
from tests.test_workflow_baseline import do, new_case, run_to_publicity

D = dt.date


@pytest.fixture
def county(world):
    world.county("other", plugin="baseline", townships=1, villages=1)
    return world.county("base", plugin="baseline", townships=2, villages=1)


def approved(app) -> int:
    """Approved on 2026-10-21 through the whole workflow: its schedule starts with the next month."""
    case_id = new_case(app)
    run_to_publicity(app, case_id)
    do(app, "base-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 20))
    do(app, "base-county", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "1200"})
    return case_id


def payments(owner_engine, case_id):
    with owner_engine.connect() as conn:
        return conn.execute(text("SELECT month, amount, paid_on FROM benefit_payments WHERE case_id = :c "
                                 "ORDER BY month"), {"c": case_id}).all()


def test_the_county_records_a_month_paid_and_cannot_pay_it_twice_nor_ahead(app, county, client_for, owner_engine):
    case_id = approved(app)
    client = client_for("base-county")
    page = client.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert 'data-testid="payments"' in page and "1200.00" in page
    this_month = china_today().replace(day=1)
    assert f'data-testid="pay-{this_month:%Y-%m}"' in page  # the current month may be paid
    resp = client.post(f"/admin/casework/{case_id}/pay/{this_month.year}-{this_month.month}",
                       data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "已登记发放" in html and f"已发放（{china_today()}）" in html
    assert [(r.month, str(r.amount)) for r in payments(owner_engine, case_id)] == [(this_month, "1200.00")]
    again = client.post(f"/admin/casework/{case_id}/pay/{this_month.year}-{this_month.month}",
                        data={"csrf_token": csrf_token(html)}, follow_redirects=True).get_data(as_text=True)
    assert "不能重复发放" in again
    ahead = this_month + dt.timedelta(days=40)
    later = client.post(f"/admin/casework/{case_id}/pay/{ahead.year}-{ahead.month}",
                        data={"csrf_token": csrf_token(html)}, follow_redirects=True).get_data(as_text=True)
    assert "不能提前发放" in later
    assert len(payments(owner_engine, case_id)) == 1


@pytest.mark.parametrize("who,status", [("base-t1-staff", 403), ("base-t1-leader", 403), ("base-t1-village", 403),
                                        ("base-t2-staff", 404), ("other-county", 404), ("other-t1-staff", 404)])
def test_no_one_else_pays(app, county, client_for, owner_engine, who, status):
    case_id = approved(app)
    client = client_for(who)
    page = client.get(f"/admin/casework/{case_id}")
    month = china_today().replace(day=1)
    if status == 403:  # sees the months, no button
        html = page.get_data(as_text=True)
        assert 'data-testid="benefit-months"' in html and 'data-testid="pay-' not in html
        assert "待县级民政部门发放" in html
    else:
        assert page.status_code == 404
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    resp = client.post(f"/admin/casework/{case_id}/pay/{month.year}-{month.month}", data={"csrf_token": token})
    assert resp.status_code == status
    assert payments(owner_engine, case_id) == []


def test_shexians_one_off_relief_is_paid_at_its_step_not_twice_on_the_case_page(app, world, client_for, owner_engine):
    """歙县 pays 一次性临时救助金 by closing its own step (with the voucher): while that step is open the case
    page offers no second way to pay it — a payment there would leave the step unable to close."""
    from tests.plugins.test_shexian import D as SD
    from tests.plugins.test_shexian import apply, approve_dibao, to_decision
    from tests.plugins.test_shexian import do as sx_do

    world.county("sx", plugin="shexian", townships=1, villages=1)
    case_id = apply(app)
    to_decision(app, case_id)
    approve_dibao(app, case_id)
    client = client_for("sx-t1-staff")
    page = client.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert 'data-testid="relief-payments"' in page and 'data-testid="pay-relief-1"' not in page
    with owner_engine.connect() as conn:
        payment_id = conn.execute(text("SELECT id FROM relief_payments WHERE case_id = :c"), {"c": case_id}).scalar()
    resp = client.post(f"/admin/casework/{case_id}/relief/{payment_id}/pay",
                       data={"csrf_token": csrf_token(page), "voucher_no": "X-1"}, follow_redirects=True)
    assert "环节办理时登记发放" in resp.get_data(as_text=True)
    sx_do(app, "sx-t1-staff", case_id, "one_off_relief", "paid", SD(2026, 10, 22), {"voucher_no": "溪民临〔2026〕088"})
    with owner_engine.connect() as conn:
        paid = conn.execute(text("SELECT paid_on, voucher_no FROM relief_payments WHERE case_id = :c"),
                            {"c": case_id}).one()
    assert paid.voucher_no == "溪民临〔2026〕088"
    assert "已发放（2026-10-22）" in client.get(f"/admin/casework/{case_id}").get_data(as_text=True)
