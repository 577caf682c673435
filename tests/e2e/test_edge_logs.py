"""R20 in the logs (issue 10, finding 3): a full run of registration, searches, lookups,
conflicts, a registration race and requests through a real werkzeug server, with every
logger captured at DEBUG (SQL echo included), leaves no identity or phone number in the log.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from tests.e2e.test_pages_client import app as app  # noqa: F401  (fixture)
from tests.e2e.test_pages_client import as_user
from tests.e2e.test_pages_client import staff as staff  # noqa: F401  (fixture)
from tests.integration.api.conftest import resident_id

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

NUMBERS = [resident_id(date(1980 + i, 2, 3), 700 + i) for i in range(3)] + ["E98765432"]
PHONES = ["13911112222", "13933334444", "13955556666", "13977778888"]


def _through_a_real_server(app: Any, paths: list[str]) -> None:
    """GET each path through werkzeug's server, whose request log is the one `serve` writes."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for path in paths:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10).read()
            except urllib.error.HTTPError:
                pass  # a redirect to sign in or a 401: the request line is logged all the same
    finally:
        server.shutdown()
        thread.join(5)


def test_a_full_run_logs_no_identity_or_phone_number(
    app: Any, session: Any, staff: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    from zones.db import session_factory
    from zones.schema import Visitor
    from zones.services import create_token, register_visitor

    caplog.set_level(logging.DEBUG)  # every logger
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQLAlchemy quiets itself to WARN on import
    desk_token = create_token(session, staff["desk"])
    officer_token = create_token(session, staff["officer"])
    api = app.test_client()

    def call(method: str, path: str, token: str, **kw: Any) -> Any:
        return api.open(f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {token}"}, **kw)

    ids = []
    for i, (number, phone) in enumerate(zip(NUMBERS, PHONES, strict=True)):
        id_type = "passport" if number.startswith("E") else "resident_id"
        body = {"name": f"Visitor {i}", "id_type": id_type, "id_number": number, "phone": phone}
        resp = call("POST", "/visitors", desk_token, json=body)
        assert resp.status_code == 201, resp.json
        ids.append(resp.json["id"])
        # a guessed number under another name, and bad input carrying the number
        assert call("POST", "/visitors", desk_token, json=body | {"name": "Someone Else"}).status_code == 409
        assert call("POST", "/visitors", desk_token, json=body | {"birth_date": "0001-01-01"}).status_code == 422
        call("GET", f"/zones/smelting/check?card={number}", officer_token)
        call("GET", f"/visitors/{ids[-1]}", officer_token)

    # the pages: searches by number (the officer may, reception finds nothing), a lookup
    officer, _ = as_user(app, "officer")
    desk, _ = as_user(app, "desk")
    for number, phone in zip(NUMBERS, PHONES, strict=True):
        for client in (officer, desk):
            assert client.get("/panel/visitors", query_string={"q": number}).status_code == 200
            assert client.get("/panel/visitors", query_string={"q": phone}).status_code == 200

    # two desks registering one document at once: the loser's INSERT hits the unique index
    engine = session.get_bind()
    with session_factory(engine)() as first, session_factory(engine)() as second:
        raced: list[bool] = []

        def other_desk_first(*_: Any) -> None:
            if not raced:
                raced.append(True)
                register_visitor(first, name="Race", id_type="passport", id_number="E55500011", phone=PHONES[0])

        event.listen(second, "before_flush", other_desk_first)
        register_visitor(second, name="Race", id_type="passport", id_number="E55500011", phone=PHONES[0])

    # an IntegrityError that nobody handles, logged with its traceback as a bug would be
    session.add(Visitor(name="Dup", id_type="passport", id_number="E98765432", phone=PHONES[3]))
    with pytest.raises(IntegrityError) as failed:
        session.flush()
    session.rollback()
    logging.getLogger("tests.edge").error("unhandled: %s", failed.value, exc_info=failed.value)

    # the access log of a real server, with numbers in the query string
    _through_a_real_server(
        app,
        [f"/panel/visitors?q={NUMBERS[0]}", f"/m/lookup?card={NUMBERS[1]}", f"/api/v1/me?phone={PHONES[2]}"],
    )

    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "SELECT" in text and "GET /panel/visitors?" in text  # SQL and the request log were captured
    for secret in [*NUMBERS, *PHONES, "E55500011"]:
        assert secret not in text, secret
