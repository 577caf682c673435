"""R21 in the browser: reception records a B incident (a former employee at the gate), it is
routed to human resources, whose member sees the alert when signing in and files the report;
the incident closes with its alert."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site, shot, sign_in

pytestmark = pytest.mark.browser

HR_NAME, HR_PASSWORD = "He Rong", "hr-member-pass-1"  # [web] min_password_length is 12


def add_hr_member(site: Site) -> None:
    """A member of the human resources department (the routing of category B)."""
    from zones.db import make_engine, session_factory
    from zones.services import create_user

    engine = make_engine(site.database)
    try:
        with session_factory(engine)() as s:
            create_user(s, HR_NAME, "escort", "human-resources", password=HR_PASSWORD)
    finally:
        engine.dispose()


def test_reception_records_a_b_incident_and_hr_files_the_report(site: Site, desk: Any, browser: Any) -> None:
    add_hr_member(site)
    page = desk.new_page()
    sign_in(page, site, "desk")
    page.get_by_role("link", name="Incidents").click()
    form = page.locator("[data-test=record-incident]")
    form.locator("select[name=category]").select_option("B")
    form.locator("input[name=name0]").fill("Bo Former")
    form.locator("input[name=organisation0]").fill("formerly steelmaking")
    form.locator("input[name=summary]").fill("asks to speak about his dismissal")
    form.get_by_role("button", name="Record and route").click()
    expect(page.locator(".flash, .flashes").first).to_contain_text("routed to Human resources")
    shot(page, "reception-incident-recorded")

    hr = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        hr_page = hr.new_page()
        hr_page.goto(site.url + "/login")
        hr_page.fill("input[name=username]", HR_NAME)
        hr_page.fill("input[name=password]", HR_PASSWORD)
        hr_page.click("main button[type=submit]")
        hr_page.wait_for_load_state()
        hr_page.goto(site.url + "/panel/incidents")
        alerts = hr_page.locator("[data-test=alerts]")
        expect(alerts).to_contain_text("Unscheduled arrival")
        expect(alerts).to_contain_text("asks to speak about his dismissal")
        shot(hr_page, "reception-hr-alert")
        report = hr_page.locator("[data-test=report-form]").first
        report.locator("input[name=outcome]").fill("left calmly after a talk")
        report.locator("textarea[name=text]").fill("met at the gate by HR; explained the appeal procedure")
        report.get_by_role("button", name="File the report").click()
        expect(hr_page.locator("[data-test=incidents]")).to_contain_text("left calmly after a talk")
        expect(hr_page.locator("[data-test=alerts]")).to_have_count(0)
        shot(hr_page, "reception-report-filed")
    finally:
        hr.close()
