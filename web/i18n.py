"""Page strings in English and Simplified Chinese, and the language each page is shown in.

Templates call ``_("English text", name=value)``: the English text is the key (gettext
style), the Chinese catalogue lives in ``web.i18n_zh.ZH``. A string missing from the
catalogue falls back to English and is logged once, and a unit test checks that every
``_("...")`` in the templates has a Chinese entry.

The language of a request (part 5 of the issue): the session's explicit choice (the switch
in the header, also saved on the user when a service for it exists), else the signed-in
employee's ``language``, else ``site.language`` from config.toml, else English.

Rule messages (denial reasons) are not page strings: they are rendered by
``zones.messages.render`` through the ``reason_text`` Jinja global defined here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, g, session
from markupsafe import Markup, escape

from web.i18n_zh import ZH, ZH_SERVICE

log = logging.getLogger(__name__)

LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
_missing_logged: set[str] = set()


def site_language() -> str:
    """``site.language`` from config.toml (kept by create_app in app.extensions["sitegate"])."""
    state = current_app.extensions.get("sitegate")
    lang = getattr(state, "language", None)
    return lang if lang in LANGUAGES else "en"


def current_language() -> str:
    """The language of this request: session choice, user's language, site default."""
    cached = g.get("_lang")
    if cached:
        return cached
    lang = session.get("lang")
    if lang not in LANGUAGES:
        lang = _user_language() or site_language()
    g._lang = lang
    return lang


def _user_language() -> str | None:
    try:
        from flask_login import current_user
    except ImportError:  # pragma: no cover - flask-login is a dependency
        return None
    if not getattr(current_user, "is_authenticated", False):
        return None
    lang = getattr(current_user, "language", None)
    if lang is None:
        lang = getattr(getattr(current_user, "employee", None), "language", None)
    return lang if lang in LANGUAGES else None


def translate(text: str, lang: str | None = None, **params: Any) -> str:
    """``text`` in ``lang`` (default: the request's), with ``{name}`` params filled in."""
    lang = lang or current_language()
    out = text
    if lang == "zh":
        out = ZH.get(text, text)
        if text not in ZH and text not in _missing_logged:
            _missing_logged.add(text)
            log.debug("no Chinese for page string %r", text)
    return out.format(**params) if params else out


_SERVICE_PATTERNS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), zh) for p, zh in ZH_SERVICE]


def service_text(message: str, lang: str | None = None) -> str:
    """A domain service's English message (a field error, a refusal) in the page language,
    when the catalogue knows its shape; otherwise as the service said it."""
    if (lang or current_language()) != "zh":
        return message
    for pattern, zh in _SERVICE_PATTERNS:
        m = pattern.fullmatch(message)
        if m:
            return m.expand(zh)
    return message


def gettext_markup(text: str, **params: Any) -> Markup:
    """Jinja ``_()``: params are escaped, the catalogue string itself is trusted markup."""
    safe = {k: escape(v) for k, v in params.items()}
    return Markup(translate(text, **safe))


def reason_text(reason: Any, lang: str | None = None) -> str:
    """A denial reason in the page language. Accepts a ``zones.facts.Reason`` or a mapping
    with ``rule``/``message`` (and optionally ``code``/``params``) as stored with events."""
    from zones.facts import Reason
    from zones.messages import render

    lang = lang or current_language()
    if isinstance(reason, Mapping):
        params = reason.get("params") or {}
        if isinstance(params, Mapping):
            params = tuple((str(k), str(v)) for k, v in params.items())
        reason = Reason(rule=str(reason.get("rule", "")), code=str(reason.get("code", "")),
                        message=str(reason.get("message", "")), params=tuple(map(tuple, params)))
    try:
        return render(reason, lang)
    except (KeyError, IndexError, ValueError):  # params of an older message version
        return reason.message


# stored enumeration values -> the English label shown for them (then translated)
ENUM_LABELS: dict[str, str] = {
    "resident_id": "Resident identity card", "passport": "Passport", "other": "Other document",
    "video": "Video", "verbal": "Verbal", "written": "Written",
    "warning": "Warning", "cancel-visit": "Cancel the visit", "ban": "Ban",
    "booked": "Booked", "on-site": "On site", "closed": "Closed",
    "pending": "Pending", "approved": "Approved", "revoked": "Revoked",
    "active": "Active", "returned": "Returned", "lost": "Lost",
    "visitor": "Visitor", "employee": "Employee", "general": "General", "high-risk": "High-risk",
    "decision": "Decision", "passage": "Passage", "read": "Card read", "fault": "Fault", "emergency": "Emergency",
    "in": "Entry", "out": "Exit", "ready": "Ready", "released": "Released", "faulted": "Faulted",
}


def label(value: str | None) -> str:
    """The translated label of a stored enumeration value (``on-site`` -> "On site" / "在厂")."""
    if value is None:
        return ""
    return translate(ENUM_LABELS.get(value, value))


def init_app(app: Flask) -> None:
    """Register ``_``, ``lang``, ``reason_text`` and ``LANGUAGES`` in Jinja (idempotent)."""
    if app.extensions.get("sitegate_i18n"):
        return
    app.extensions["sitegate_i18n"] = True
    app.jinja_env.globals.update(
        _=gettext_markup, current_language=current_language, reason_text=reason_text,
        LANGUAGES=LANGUAGES, label=label, tr=translate,
    )
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["tr_pair"] = lambda value: (value, label(value))
