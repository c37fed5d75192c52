"""A robot clerk: works a case through whatever steps its plugin declares, on screen, as the people
whose level each step belongs to would — filling each step's form and pressing an outcome button."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

TODAY = dt.date.today().isoformat()

#: what the clerk types into a field of that name, whatever the step
ANSWERS = {
    "report_no": "HD2026-0815", "result": "pass", "agency": "县居民家庭经济状况核对中心", "per_capita_income": "265",
    "investigators": "汪敏\n胡军", "visited_on": TODAY, "findings": "家中有重病、重残成员，收入低，情况属实。",
    "doubt": "false", "neighbour_visits": "3", "held_on": TODAY, "participants": "9", "opinion": "符合条件，拟同意。",
    "proposed_amount": "900", "channels": "村（居）务公开栏\n乡镇（街道）公示栏", "monthly_amount": "900",
    "note": "已送达。", "delivered_on": TODAY, "posted_on": TODAY,
    # 联审联批 (Anhui), Jingdezhen's investigation and assessment
    "meeting_held_on": TODAY, "meeting_participants": "镇党委\n镇民政办\n镇纪委",
    "methods": "入户调查\n邻里访问", "village_assistance": "村委会委员 汪红",
    "assessment": "结合实地调查，人均月收入低于当地低保标准。",
    "voucher_no": "PZ2026-0001", "report_issued_on": TODAY,
    "archive_no": "DT-2026-001", "system_entered": "true", "paper_exported": "true", "consistent": "true",
    "paper_location": "镇民政办档案柜",
    # 枞阳's 特困 support mode; 宁夏's needs assessment
    "support_mode": "集中供养", "needs": "家庭成员患病，医疗支出较大。", "measures": "按低保标准补差",
}


#: the answers that are dates (typed as the day the clerk works: the demo's own date in the demo)
DATES = ("visited_on", "held_on", "delivered_on", "posted_on", "meeting_held_on", "report_issued_on")


def fill_form(form, outcome: str, today: str | None = None) -> None:
    answers = {**ANSWERS, **dict.fromkeys(DATES, today)} if today else ANSWERS
    prefix = f"o.{outcome}."
    for el in form.locator(f"[name^='{prefix}']").all():
        name = el.get_attribute("name")[len(prefix):]
        tag = el.evaluate("e => e.tagName.toLowerCase()")
        kind = el.get_attribute("type")
        base = name.split(".")[0]
        if name == "reason":
            el.fill("经研究，依据相关规定办理。")
        elif kind == "radio":
            if el.get_attribute("value") == answers.get(base, "false"):
                el.check()
        elif kind == "checkbox":
            continue
        elif tag == "select" and base == "findings":
            # 分类审核认定 in order: the categories before 低保 not met (with the reason), 低保 met, the rest
            # left (a household is recognised in one category only: the first it meets)
            category = name.split(".")[1]
            order = [e.get_attribute("name").split(".")[-1] for e in form.locator(f"select[name^='{prefix}findings.']").all()]
            if "dibao" not in order or category == "dibao":
                el.select_option("eligible")
            elif order.index(category) < order.index("dibao"):
                el.select_option("ineligible")
                form.locator(f"[name='{prefix}findings.{category}.reason']").fill("经核查，不符合该类认定条件。")
        elif tag == "select":
            options = [o for o in el.locator("option").all() if o.get_attribute("value")]
            wanted = answers.get(base)
            values = [o.get_attribute("value") for o in options]
            el.select_option(wanted if wanted in values else values[0])
        elif base.endswith("_posted_on"):  # 宁夏: each channel posted as its 7-day publicity began
            el.fill((dt.date.fromisoformat(today or TODAY) - dt.timedelta(days=7)).isoformat())
        elif base in answers and "." not in name:
            el.fill(answers[base])


def open_publicity_long_ago(owner_engine, case_id: int) -> None:
    """Let the publicity period run out: move its start (and end) back — time passing, not a shortcut
    through the rules (the engine still refuses an early close)."""
    with owner_engine.begin() as conn:
        conn.execute(text("""UPDATE case_steps SET opened_on = opened_on - 30, runs_until = runs_until - 30,
                             due_on = due_on - 30 WHERE case_id = :c AND status = 'open' AND runs_until IS NOT NULL"""),
                     {"c": case_id})
        # the case was applied for and accepted before its publicity opened (宁夏's postings are dated in between)
        conn.execute(text("""UPDATE cases SET applied_on = LEAST(applied_on, CURRENT_DATE - 31),
                             accepted_on = LEAST(accepted_on, CURRENT_DATE - 31) WHERE id = :c"""), {"c": case_id})


def work_case(pages: list, case_url: str, route: dict[str, str], owner_engine=None, case_id: int | None = None,
              max_steps: int = 30, *, wait=None, today=None, done=None) -> list[str]:
    """Act on the case until no one can act (or ``done(page)``); returns the (step, outcome) trail.

    A button still waiting for its period (公示期未满) calls ``wait(page)`` — by default the period is
    moved into the past in the database; the demo's test moves the 演示时钟 instead. ``today(page)``
    gives the date the clerk types (default: the machine's)."""
    def let_time_pass(page):
        open_publicity_long_ago(owner_engine, case_id)

    wait = wait or let_time_pass
    trail = []
    for _ in range(max_steps):
        acted = False
        for page in pages:
            page.goto(case_url)
            if done is not None and done(page):
                return trail
            for card in page.locator("[data-testid^='step-']").all():
                key = card.get_attribute("data-testid")[len("step-"):]
                buttons = card.locator("button[name=outcome]")
                if buttons.count() == 0:
                    continue
                outcome = route.get(key) or buttons.first.get_attribute("value")
                selector = f"[data-testid='step-{key}'] button[name=outcome][value='{outcome}']"
                if page.locator(selector).count() == 0:
                    continue
                for _attempt in range(2):  # a period may need two moves of the clock
                    if not page.locator(selector).is_disabled():
                        break
                    wait(page)
                    page.goto(case_url)
                typed = today(page) if today is not None else None
                if typed is not None:
                    page.goto(case_url)
                button = page.locator(selector)
                fill_form(button.locator("xpath=ancestor::form"), outcome, typed)
                button.click()
                page.wait_for_load_state()
                if page.locator(".alert-danger, .alert-error").count():
                    problems = [e.inner_text() for e in page.locator(".alert-danger, .alert-error, .invalid-feedback").all()]
                    raise AssertionError(f"{key}/{outcome} refused: {problems}")
                trail.append(f"{key}:{outcome}")
                acted = True
                break
            if acted:
                break
        if not acted:
            return trail
    return trail
