"""What staff stumbled on (issue 13, "Smaller" and the confirmations), in chromium against
`sitegate serve`, on a desktop and on a 390x844 phone, in English and Chinese:

- a wrong identity number at check-in (R2) gives one error banner, and the number field of
  that visitor's row is marked with why; every placeholder on the visits list is read in
  full, and on a phone every row's actions are in reach without scrolling sideways;
- Check out and Revoke ask first (web/static/confirm.js): cancelling sends nothing;
- an officer approving a contact form they created is told so on the row and asked first,
  on the panel and on the handheld (R5 allows it; a form someone else created is approved
  without a question).

Screenshots of each page land in test-artifacts/screenshots/staff-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import STAFF, Site, shot, sign_in
from tests.integration.plant import resident_id

pytestmark = pytest.mark.browser

VISITOR = "Sun Li"
ID_NUMBER = resident_id(datetime(1985, 3, 9).date(), 17)
WRONG_NUMBER = resident_id(datetime(1985, 3, 9).date(), 18)  # valid, but not this visitor's (R2)

# True when the input shows its whole placeholder (the text's width fits inside the padding)
PLACEHOLDER_FITS = """el => {
  const cs = getComputedStyle(el);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = cs.font;
  const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return ctx.measureText(el.placeholder).width <= room;
}"""


def set_language(page: Any, lang: str) -> None:
    button = page.locator(f".lang-switch button[lang={lang}]")
    if button.get_attribute("aria-pressed") != "true":
        button.click()
        page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh" else "en")


@contextmanager
def dialogs(page: Any, accept: bool) -> Iterator[list[str]]:
    """Answer every window.confirm on ``page`` (OK or Cancel) while inside; yields the
    questions asked."""
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", answer)
    try:
        yield asked
    finally:
        page.remove_listener("dialog", answer)


def register_and_book(page: Any, site: Site) -> None:
    """README walk-through steps 2-3, as the menus and buttons name them."""
    page.click(".sidenav >> text=Visitors")
    page.click("text=Register a visitor")
    page.fill("input[name=name]", VISITOR)
    page.fill("input[name=organisation]", "Delta Pumps")
    page.select_option("select[name=id_type]", "resident_id")
    page.fill("input[name=id_number]", ID_NUMBER)
    page.fill("input[name=phone]", "13700137000")
    page.click("main button:has-text('Register')")
    expect(page.locator("h1")).to_contain_text(VISITOR)
    page.click("text=Book a visit")
    page.select_option("select[name=host_id]", label=f"{STAFF['escort'].name} · steelmaking")
    page.fill("input[name=purpose]", "Pump inspection")
    page.click("main button:has-text('Book')")
    expect(page.locator(".flash.success")).to_contain_text("Visit booked")
    expect(page.locator("h1")).to_have_text("Open visits")


def check_in_wrong(page: Any, site: Site, name: str) -> None:
    """A number that is not the visitor's: one banner, the row's field marked (R2)."""
    page.goto(site.url + "/panel/visits")
    row = page.locator("tr", has_text=VISITOR)
    row.locator("input[name=id_number]").fill(WRONG_NUMBER)
    row.locator("button", has_text="Check in" if "-en" in name else "登记到达").click()
    expect(page).to_have_url(site.url + "/panel/visits")
    expect(page.locator(".flash")).to_have_count(1)
    expect(page.locator(".flash.error")).to_have_count(1)
    field = page.locator("tr", has_text=VISITOR).locator("input[name=id_number]")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    expect(page.locator("tr", has_text=VISITOR).locator(".field-error")).to_contain_text("R2")
    assert WRONG_NUMBER not in page.content()  # R20: the number typed is not echoed back
    for placeholder in page.locator("input[placeholder]").all():
        assert placeholder.evaluate(PLACEHOLDER_FITS), (
            f"{name}: placeholder cut off: {placeholder.get_attribute('placeholder')}"
        )
    shot(page, f"staff-visits-check-in-wrong-{name}")


def test_check_in_banner_marked_field_and_check_out_asks(site: Site, desk: Any, phone: Any) -> None:
    page = desk.new_page()
    sign_in(page, site, "officer")
    set_language(page, "en")
    register_and_book(page, site)
    check_in_wrong(page, site, "desk-en")
    # the mark goes with the next page: a reload shows the list as it is
    page.reload()
    expect(page.locator(".flash")).to_have_count(0)
    expect(page.locator("input[aria-invalid]")).to_have_count(0)

    mobile = phone.new_page()
    sign_in(mobile, site, "officer")
    for lang in ("zh", "en"):
        set_language(mobile, lang)
        check_in_wrong(mobile, site, f"phone-{lang}")
        # a phone shows each visit as a card: Check in is in reach without scrolling sideways
        box = mobile.locator("tr", has_text=VISITOR).locator("button[type=submit]").first.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
    set_language(page, "zh")
    check_in_wrong(page, site, "desk-zh")
    set_language(page, "en")

    page.goto(site.url + "/panel/visits")
    row = page.locator("tr", has_text=VISITOR)
    row.locator("input[name=id_number]").fill(ID_NUMBER)
    row.locator("button", has_text="Check in").click()
    expect(page.locator(".flash.success")).to_contain_text("Checked in")

    # Check out asks first; Cancel sends nothing, the visit stays open
    with dialogs(page, accept=False) as asked:
        page.locator("tr", has_text=VISITOR).locator("button", has_text="Check out").click()
        expect(page.locator("tr", has_text=VISITOR)).to_contain_text("On site")
    assert asked == [f"Check out {VISITOR} and close the visit?"]
    assert page.evaluate("document.querySelector('.flash.success') !== null")  # the same page: nothing sent
    page.reload()
    expect(page.locator("tr", has_text=VISITOR)).to_contain_text("On site")
    shot(page, "staff-visits-on-site-desk-en")
    mobile.goto(site.url + "/panel/visits")
    set_language(mobile, "zh")
    with dialogs(mobile, accept=False) as asked:
        mobile.locator("tr", has_text=VISITOR).locator("button", has_text="登记离开").click()
        expect(mobile.locator("tr", has_text=VISITOR)).to_contain_text("在厂")
    assert asked == [f"确定为{VISITOR}登记离开并结束此次来访吗？"]
    shot(mobile, "staff-visits-on-site-phone-zh")
    with dialogs(page, accept=True) as asked:
        page.locator("tr", has_text=VISITOR).locator("button", has_text="Check out").click()
        expect(page.locator(".flash.success")).to_contain_text("Checked out; the visit is closed.")
    assert len(asked) == 1
    expect(page.locator("tr", has_text=VISITOR)).to_have_count(0)


def seed_visitor_with_form(site: Site, name: str, serial: int, created_by: int | None, approve: bool = False) -> int:
    """A visitor on site with a contact form for the smelting workshop (escort: STAFF
    escort) created by ``created_by``; the form's id."""
    from zones.config import load_config
    from zones.db import make_engine, session_factory
    from zones.services import approve_contact_form, book_visit, check_in, create_contact_form, register_visitor

    zones = load_config(site.config_path).zone_map()
    engine = make_engine(site.database)
    now = datetime.now(UTC)
    try:
        with session_factory(engine)() as s:
            number = resident_id(datetime(1990, 1, 1).date(), serial)
            v = register_visitor(s, name=name, id_type="resident_id", id_number=number, organisation="Acme")
            check_in(s, book_visit(s, visitor_id=v.id, host_id=site.ids["escort"], purpose="audit").id, number)
            form = create_contact_form(
                s,
                visitor_id=v.id,
                zones=["smelting"],
                escort_ids=[site.ids["escort"]],
                purpose="Furnace audit",
                valid_from=now,
                valid_until=now + timedelta(hours=8),
                outside_hours=True,
                created_by=created_by,
                known_zones=zones,
            )
            if approve:
                approve_contact_form(s, form.id, site.ids["officer"], zones)
            s.commit()
            return form.id
    finally:
        engine.dispose()


def test_approving_ones_own_form_warns_and_revoke_asks(site: Site, desk: Any, phone: Any) -> None:
    own = seed_visitor_with_form(site, "Gao Yan", 21, created_by=site.ids["officer"])
    theirs = seed_visitor_with_form(site, "He Min", 22, created_by=site.ids["desk"])
    page = desk.new_page()
    sign_in(page, site, "officer")
    set_language(page, "en")

    # the panel's Pending tab (README: "approval queue"): the officer's own form is marked
    page.click(".sidenav >> text=Contact forms")
    expect(page.locator(".actions a", has_text="Pending")).not_to_have_class("button secondary")
    expect(page.locator(f"[data-test=own-form-{own}]")).to_have_text("you created this form")
    expect(page.locator(f"[data-test=own-form-{theirs}]")).to_have_count(0)
    shot(page, "staff-forms-own-desk-en")
    set_language(page, "zh")
    expect(page.locator(f"[data-test=own-form-{own}]")).to_have_text("此联系单由您创建")
    shot(page, "staff-forms-own-desk-zh")
    set_language(page, "en")

    # approving it asks first; Cancel leaves it pending
    with dialogs(page, accept=False) as asked:
        page.click(f"[data-test=approve-{own}-steelmaking]")
        expect(page.locator(f"[data-test=approve-{own}-steelmaking]")).to_be_visible()
    assert asked == [f"You created contact form {own} yourself. Approve it without a second person checking it?"]
    page.reload()
    expect(page.locator(f"[data-test=approvals-{own}]")).to_contain_text("pending")
    # a form someone else created is approved at once, without a question
    with dialogs(page, accept=False) as asked:
        page.click(f"[data-test=approve-{theirs}-steelmaking]")
        expect(page.locator(".flash.success")).to_contain_text(f"Contact form {theirs} approved.")
    assert asked == []
    with dialogs(page, accept=True) as asked:
        page.click(f"[data-test=approve-{own}-steelmaking]")
        expect(page.locator(".flash.success")).to_contain_text(f"Contact form {own} approved.")
    assert len(asked) == 1

    # Revoke asks, naming the visitor; Cancel keeps the form approved
    page.click(".actions a:has-text('Approved')")
    row = page.locator("tr", has_text="He Min")
    with dialogs(page, accept=False) as asked:
        row.locator("button", has_text="Revoke").click()
        expect(page.locator("tr", has_text="He Min")).to_be_visible()
    assert asked == [f"Revoke contact form {theirs} for He Min? The gates stop letting them in."]
    page.reload()
    expect(page.locator("tr", has_text="He Min")).to_have_count(1)  # still on the Approved tab
    shot(page, "staff-forms-approved-desk-en")
    with dialogs(page, accept=True):
        page.locator("tr", has_text="He Min").locator("button", has_text="Revoke").click()
        expect(page.locator(".flash.success")).to_contain_text(f"Contact form {theirs} revoked.")
    page.click(".actions a:has-text('Revoked')")
    expect(page.locator("tr", has_text="He Min")).to_have_count(1)

    # the handheld's Forms page: the same mark and question on a phone
    mine = seed_visitor_with_form(site, "Qian Hui", 23, created_by=site.ids["officer"])
    mobile = phone.new_page()
    sign_in(mobile, site, "officer")
    mobile.goto(site.url + "/m/forms")
    for lang in ("zh", "en"):
        set_language(mobile, lang)
        expect(mobile.locator(f"#form-{mine} [data-test=own-form-{mine}]")).to_be_visible()
        shot(mobile, f"staff-handheld-forms-own-phone-{lang}")
    page.goto(site.url + "/m/forms")
    expect(page.locator(f"[data-test=own-form-{mine}]")).to_have_text("you created this form")
    shot(page, "staff-handheld-forms-own-desk-en")
    with dialogs(mobile, accept=False) as asked:
        mobile.click(f"[data-test=approve-{mine}]")
        expect(mobile.locator(f"#form-{mine}")).to_be_visible()
    assert asked == [f"You created contact form {mine} yourself. Approve it without a second person checking it?"]
    with dialogs(mobile, accept=True):
        mobile.click(f"[data-test=approve-{mine}]")
        expect(mobile.locator(".flash.success")).to_contain_text(f"Contact form {mine} approved.")
    expect(mobile.locator(f"#form-{mine}")).to_have_count(0)
