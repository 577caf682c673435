"""The pages at their edges (issue 10, findings 1, 2, 4, 5, 9 and the bad-input campaign),
through Flask's test client on SQLite:

- stored text that looks like HTML comes back escaped on every page that shows it;
- no page carries inline script (a ``<script>`` without ``src`` or an ``on...=`` handler),
  so the Content-Security-Policy ``script-src 'self'`` holds;
- reception cannot find a visitor by identity or phone number, and sees an age instead of
  the birth date (R20);
- every form posted, and every page asked, with oversized, control-character and boundary
  values answers a 4xx or the form again: never a 500.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import ROOT
from tests.e2e.test_pages_client import ID_NUMBER, USERS, as_user, visitor_with_visit
from tests.e2e.test_pages_client import app as app  # noqa: F401  (fixture)
from tests.e2e.test_pages_client import staff as staff  # noqa: F401  (fixture)
from zones.config import parse_config

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

XSS = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
TAG = re.compile(r"<[a-zA-Z][^>]*>")
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")  # attribute values: escaped text, never a handler
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)

# values every field is tried with: oversized, control and bidirectional characters, numbers
# and dates at and past their bounds, markup
BAD_VALUES = [
    "x" * 5000,
    "a\x00b",
    "line\r\nSet-Cookie: x=1",
    "\u202egnp.exe",
    "9" * 5000,
    str(2**31),
    str(2**63),
    "-1",
    "0",
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59",
    "0000-01",
    "0001-01",
    "9999-12",
    XSS,
    "",
]
FIELDS = [
    "name",
    "organisation",
    "phone",
    "id_type",
    "id_number",
    "birth_date",
    "visitor_id",
    "host_id",
    "escort_id",
    "person_id",
    "purpose",
    "expected_at",
    "valid_from",
    "valid_until",
    "zones",
    "department",
    "method",
    "topics",
    "delivered_at",
    "signature",
    "notification_signed",
    "card",
    "helmet_no",
    "rule",
    "severity",
    "days",
    "note",
    "reason",
    "active",
    "accounted",
    "zone",
    "walk_in",
    "outside_hours",
    "lang",
    "next",
    "username",
    "password",
]
QUERY_ARGS = ["q", "month", "since", "until", "cursor", "card", "escort", "gate", "zone", "state", "next", "visitor_id"]


def _stored_markup(session: Any, staff: dict[str, int]) -> tuple[int, int]:
    """A visitor, a visit, a contact form, a breach and an emergency whose free text is markup."""
    from zones.schema import Visit, Visitor
    from zones.services import create_contact_form, record_breach, set_emergency

    vid, visit_id = visitor_with_visit(session, staff["escort"], name=XSS + " Chen")
    session.get(Visitor, vid).organisation = XSS + " Org"
    session.get(Visit, visit_id).purpose = XSS + " purpose"
    session.commit()
    now = datetime.now(UTC)
    zones = parse_config((ROOT / "config.toml").read_text(encoding="utf-8")).zone_map()
    create_contact_form(
        session,
        visitor_id=vid,
        zones=[next(iter(zones))],
        escort_id=staff["escort"],
        purpose=XSS + " form",
        valid_from=now - timedelta(hours=1),
        valid_until=now + timedelta(hours=8),
        created_by=staff["desk"],
        known_zones=zones,
    )
    record_breach(session, person_id=vid, rule="R9", severity="warning", seen_by=staff["officer"], note=XSS + " note")
    set_emergency(session, True, XSS + " reason", staff["officer"])
    return vid, visit_id


def _pages(app: Any, role: str) -> list[str]:
    """Every GET page without path parameters the role may open (and the record pages)."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(("/api/", "/static")):
            out.append(rule.rule)
    return sorted(out)


def test_stored_markup_comes_back_escaped_on_every_page(app: Any, session: Any, staff: dict[str, int]) -> None:
    vid, _ = _stored_markup(session, staff)
    shown = 0
    for role in ("officer", "desk", "escort"):
        client, _ = as_user(app, role)
        for path in [*_pages(app, role), f"/panel/visitors/{vid}"]:
            resp = client.get(path)
            assert resp.status_code < 500, (role, path)
            assert XSS not in resp.text, (role, path)
            shown += resp.text.count(ESCAPED)
    assert shown >= 10  # name, organisation, purposes, note and reason were shown, escaped


def test_no_page_carries_inline_script(app: Any, session: Any, staff: dict[str, int]) -> None:
    """The pages run under ``script-src 'self'``: scripts come from /static only."""
    vid, _ = _stored_markup(session, staff)
    for role in ("officer", "desk", "escort", "guard"):
        client, _ = as_user(app, role)
        for path in [*_pages(app, role), f"/panel/visitors/{vid}", "/panel/stats", "/login"]:
            html = client.get(path).text
            assert not INLINE_SCRIPT.search(html), (role, path)
            handlers = [t for t in TAG.findall(html) if INLINE_HANDLER.search(QUOTED.sub('""', t))]
            assert not handlers, (role, path, handlers[:3])


def test_reception_cannot_search_by_number_and_sees_an_age(app: Any, session: Any, staff: dict[str, int]) -> None:
    """R20: a search by identity or phone number would recover a masked number."""
    vid, _ = visitor_with_visit(session, staff["escort"])
    desk, _ = as_user(app, "desk")
    for q in (ID_NUMBER, "13800138000", "138001"):
        assert "Chen Jing" not in desk.get("/panel/visitors", query_string={"q": q}).text, q
    assert "Chen Jing" in desk.get("/panel/visitors", query_string={"q": "Chen"}).text
    record = desk.get(f"/panel/visitors/{vid}").text
    assert "1988-05-15" not in record and "age 3" in record
    officer, _ = as_user(app, "officer")
    assert "Chen Jing" in officer.get("/panel/visitors", query_string={"q": ID_NUMBER}).text
    assert "1988-05-15" in officer.get(f"/panel/visitors/{vid}").text


def _post_targets(app: Any, vid: int) -> list[str]:
    """Every page POST route, with its path parameters filled by a real and a too-large id."""
    out = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        for ident in (str(vid), str(2**31), str(2**63)):
            path = rule.rule
            for arg in rule.arguments:
                value = {"card": "0A00000001", "action": "return"}.get(arg, ident)
                path = re.sub(rf"<(?:\w+:)?{arg}>", value, path)
            out.append(path)
    return sorted(set(out))


@pytest.mark.parametrize("role", ["officer", "escort"])  # the officer may post every form the desk may
def test_every_form_posted_with_bad_values_is_never_a_500(
    app: Any, session: Any, staff: dict[str, int], role: str
) -> None:
    vid, _ = visitor_with_visit(session, staff["escort"])
    client, token = as_user(app, role)
    for path in _post_targets(app, vid):
        if path == "/logout":
            continue
        for value in BAD_VALUES:
            data = {field: value for field in FIELDS} | {"csrf_token": token}
            resp = client.post(path, data=data)
            assert resp.status_code < 500, (path, value[:30], resp.status_code)
            assert XSS not in resp.text, (path, value[:30])


@pytest.mark.parametrize("role", ["officer", "escort"])
def test_every_page_asked_with_bad_query_values_is_never_a_500(app: Any, session: Any, role: str) -> None:
    client, _ = as_user(app, role)
    for path in [*_pages(app, role), f"/panel/visitors/{2**63}", "/panel/visitors/" + "9" * 5000]:
        for value in BAD_VALUES:
            resp = client.get(path, query_string={arg: value for arg in QUERY_ARGS})
            assert resp.status_code < 500, (path, value[:30], resp.status_code)
            assert XSS not in resp.text, (path, value[:30])


def test_a_line_break_in_next_is_no_header(app: Any) -> None:
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    u = USERS["desk"]
    resp = client.post(
        "/login",
        query_string={"next": "/panel/\r\nSet-Cookie: stolen=1"},
        data={"username": u.name, "password": u.password, "csrf_token": token},
    )
    assert resp.status_code < 500 and "stolen" not in str(resp.headers)


def test_page_translation_escapes_text_it_does_not_know(app: Any) -> None:
    """``_()`` of text the catalogue lacks (a stored value, a typed topic) is text, not markup."""
    from flask import render_template_string

    with app.test_request_context("/panel/"):
        out = render_template_string("{{ _(t) }}|{{ _('Topic %(name)s', name=t) }}", t=XSS)
    assert XSS not in out and out.count(ESCAPED) == 2


def test_an_escort_s_handheld_lookup_names_only_their_own_visitors(
    app: Any, session: Any, staff: dict[str, int]
) -> None:
    from zones.services import issue_badge

    _, mine = visitor_with_visit(session, staff["escort"])
    _, theirs = visitor_with_visit(session, staff["other_escort"], name="Ma Li", id_number="P7654321")
    issue_badge(session, mine, "0A0000AA01")
    issue_badge(session, theirs, "0A0000AA02")
    escort, _ = as_user(app, "escort")
    assert "Chen Jing" in escort.get("/m/lookup", query_string={"card": "0A0000AA01"}).text
    page = escort.get("/m/lookup", query_string={"card": "0A0000AA02"}).text
    unknown = escort.get("/m/lookup", query_string={"card": "0A0000AA03"}).text
    assert "Ma Li" not in page
    same = [re.sub(r'name="csrf_token" value="[^"]+"', "", text) for text in (page, unknown)]
    assert same[0].replace("0A0000AA02", "CARD") == same[1].replace("0A0000AA03", "CARD")  # as if unknown
    guard, _ = as_user(app, "guard")
    assert "Ma Li" in guard.get("/m/lookup", query_string={"card": "0A0000AA02"}).text
