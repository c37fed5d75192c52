"""Under the Content Security Policy, Flask-Admin's behaviour that used inline handlers still works:
the filter menu, bulk actions with their confirmation, and a row's delete confirmation."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_filters_and_actions_work_without_inline_scripts(app, world, page_for, live_url):
    world.county("csp", plugin="baseline", townships=1, villages=2)
    page = page_for("csp-admin")
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(live_url + "/admin/orgunit/")
    # "Add filter" opens its menu and adds a filter row without leaving the page
    page.click("text=添加筛选器")
    page.click(".field-filters a.filter >> nth=0")
    assert page.locator(".filter-op").count() >= 1 or page.locator("table.filters tr").count() >= 1
    assert page.url.startswith(live_url + "/admin/orgunit/")
    # bulk delete asks first; declining leaves everything in place
    rows_before = page.locator("input.action-checkbox").count()
    page.check("input.action-checkbox >> nth=-1")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("text=选中的")
    page.click("[data-jz-action='delete']")
    assert asked and page.locator("input.action-checkbox").count() == rows_before
    assert violations == []
