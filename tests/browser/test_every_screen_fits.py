"""Every screen a role can reach from its menu fits a 1366×768 laptop and a 375-pixel phone: the page
never scrolls sideways (wide tables scroll inside their own box), it answers 200, and the browser
reports no Content-Security-Policy violation (every script the page needs is allowed)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import no_horizontal_overflow, shot

pytestmark = pytest.mark.browser

ROLES = ("fit-admin", "fit-county", "fit-t1-staff", "fit-t1-leader", "fit-t1-village")


def menu_links(page, live_url) -> list[str]:
    hrefs = page.eval_on_selector_all("nav a[href^='/admin']", "els => els.map(e => e.getAttribute('href'))")
    return sorted({h.split("#")[0] for h in hrefs if h and not h.endswith("/logout")})


LAPTOP, PHONE = (1366, 768), (375, 740)


def test_every_menu_screen_fits_laptop_and_phone(app, world, page_for, live_url):
    """Each screen is loaded once at the laptop's size, checked, then narrowed to the phone's and
    checked again (the stylesheet's breakpoints apply as the window narrows)."""
    world.county("fit", plugin="jingdezhen", townships=1, villages=1)
    operator = world.operator("fit-operator")
    misfits, seen, violations = [], 0, []
    for username in (*ROLES, operator):
        page = page_for(username, viewport=LAPTOP)
        page.on("console", lambda msg, who=username, p=page: violations.append((who, p.url, msg.text))
                if "Content Security Policy" in msg.text else None)
        for href in menu_links(page, live_url):
            page.set_viewport_size({"width": LAPTOP[0], "height": LAPTOP[1]})
            response = page.goto(live_url + href)
            seen += 1
            assert response.status == 200, (username, href, response.status)
            for width, height in (LAPTOP, PHONE):
                page.set_viewport_size({"width": width, "height": height})
                if not no_horizontal_overflow(page):
                    misfits.append((width, username, href))
                    shot(page, f"misfit-{width}-{username}-{href.strip('/').replace('/', '-')}")
    assert seen >= 20
    assert misfits == []
    assert violations == []
