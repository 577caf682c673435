"""Page strings in English and Simplified Chinese, and the language each page is shown in.

The English text is the message id (gettext); the Chinese lives in the catalogue
``web/translations/zh_Hans/LC_MESSAGES/messages.po`` (compiled ``messages.mo`` committed next
to it), served through Flask-Babel. Templates call ``_("Visitor %(name)s", name=v)``; Python
code calls ``translate("Visitor {name} registered.", name=v)`` (brace placeholders, the
catalogue marks them ``python-brace-format``) and marks table labels with ``N_``.
tests/unit/test_i18n_catalogue.py extracts every message with babel and fails when the
catalogue lacks one.

Nothing a template shows through ``_()`` is trusted markup: the catalogue text and every
parameter are escaped, so text that is not in the catalogue (an education topic typed by a
person, a stored value) cannot inject HTML.

The language of a request: the session's explicit choice (the switch in the header), else the
signed-in employee's ``language``, else the browser's Accept-Language, else ``site.language``.

Rule messages (denial reasons) and domain service errors carry a code and parameters
(``zones.facts.Reason``, ``zones.errors.DomainError``); ``reason_text`` and ``error_text``
say them in the page language.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, get_translations  # type: ignore[import-untyped]  # no py.typed
from markupsafe import Markup, escape

from zones.errors import N_, PROBLEMS, DomainError
from zones.languages import normalise_language
from zones.names import SiteNames

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
# internal language id -> the catalogue's locale
LOCALES: dict[str, str] = {"en": "en", "zh": "zh_Hans"}


def site_language() -> str:
    """``site.language`` from config.toml (kept by create_app in app.extensions["sitegate"])."""
    state = current_app.extensions.get("sitegate")
    return normalise_language(getattr(state, "language", None)) or "en"


def current_language() -> str:
    """The language of this request: session choice, user's language, browser, site default."""
    if not has_request_context():
        return "en"
    cached = g.get("_lang")
    if cached:
        return cached
    lang = normalise_language(session.get("lang")) or _user_language() or _browser_language() or site_language()
    g._lang = lang
    return lang


def _user_language() -> str | None:
    from flask_login import current_user

    if not getattr(current_user, "is_authenticated", False):
        return None
    lang = getattr(current_user, "language", None)
    if lang is None:
        lang = getattr(getattr(current_user, "employee", None), "language", None)
    return normalise_language(lang)


def _browser_language() -> str | None:
    """The first language of the Accept-Language header SiteGate has (any English counts as
    English; Traditional Chinese does not count as Simplified)."""
    for tag, _quality in request.accept_languages:
        lang = normalise_language(tag) or ("en" if tag.lower().startswith("en") else None)
        if lang:
            return lang
    return None


@cache
def _catalogue(lang: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [LOCALES.get(lang, "en")])


def translate(text: str, lang: str | None = None, **params: Any) -> str:
    """``text`` in ``lang`` (default: the request's), with ``{name}`` params filled in."""
    out = _catalogue(lang or current_language()).gettext(text)
    return out.format(**params) if params else out


def error_text(err: DomainError | str, lang: str | None = None) -> str:
    """A domain service's refusal or problem (a ``DomainError`` or a ``Problem``) in the page
    language, said from its code and parameters; text without a code is shown as it is."""
    code = getattr(err, "code", "")
    if not code:
        return str(err)
    lang = lang or current_language()
    params: dict[str, str] = _named_params(getattr(err, "params", {}), lang)
    template = _catalogue(lang).gettext(PROBLEMS[code])
    try:
        return template % params
    except (KeyError, ValueError, TypeError):  # a catalogue entry with other parameters
        return PROBLEMS[code] % params


def _named_params(params: Mapping[str, Any], lang: str) -> dict[str, str]:
    """A service error's parameters with ids said as names in ``lang``: departments and zones
    (one id, or several joined by ", " as services join them) and stored values (a form's
    ``state``, the ``what`` of "no visitor with id 3"), so no id is spliced into Chinese."""
    if not has_request_context() or not current_app.extensions.get("sitegate"):
        return dict(params)
    names = site_names()
    say: dict[str, Any] = {
        "department": lambda v: names.department(v, lang),
        "departments": lambda v: names.department(v, lang),
        "zone": lambda v: names.zone(v, lang),
        "zones": lambda v: names.zone(v, lang),
        "state": lambda v: label(v, lang),
        "what": lambda v: label(v, lang),
    }
    out = dict(params)
    for key, value in params.items():
        if key in say and isinstance(value, str) and value:
            out[key] = list_of([say[key](v) for v in value.split(", ")], lang)
    return out


def list_of(items: list[str], lang: str | None = None) -> str:
    """Items as a sentence lists them: "a, b" in English, "a、b" in Chinese."""
    return ("、" if (lang or current_language()) == "zh" else ", ").join(items)


def department_names(ids: list[str], lang: str | None = None) -> str:
    """Departments by name in the page language, listed ("装配部、炼钢部")."""
    return list_of([department_name(d, lang) for d in ids], lang)


def _escaped_gettext(text: str) -> Markup:
    """Jinja's ``_``: the translation, escaped (Jinja then fills the escaped parameters)."""
    return escape(get_translations().ugettext(text))


def _escaped_ngettext(singular: str, plural: str, n: int) -> Markup:
    return escape(get_translations().ungettext(singular, plural, n))


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
        reason = Reason(
            rule=str(reason.get("rule", "")),
            code=str(reason.get("code", "")),
            message=str(reason.get("message", "")),
            params=tuple(map(tuple, params)),
        )
    try:
        return render(reason, lang, site_names())
    except (KeyError, IndexError, ValueError):  # params of an older message version
        return reason.message


def site_names() -> SiteNames:
    """The site's zone, department and site names per language (config.toml ``name_zh``)."""
    state = current_app.extensions.get("sitegate")
    config = getattr(state, "config", None)
    return config.names() if config is not None else SiteNames()


def zone_name(zone_id: str | None, lang: str | None = None) -> str:
    """A zone's name in the page language (its id when the config does not know it)."""
    return site_names().zone(zone_id or "", lang or current_language())


def department_name(department_id: str | None, lang: str | None = None) -> str:
    """A department's name in the page language (``[[departments]]``; else its id)."""
    return site_names().department(department_id or "", lang or current_language()) if department_id else ""


def site_title(lang: str | None = None) -> str:
    """The site's name in the page language (``site.name_zh`` on Chinese pages)."""
    return site_names().site.said_in(lang or current_language())


def rule_name(rule: str | None) -> str:
    """The rule's name in the page language ("R3" -> "Badge" / "访客证"); "" when unknown."""
    from zones.messages import rule_name as name

    return name(rule or "", current_language())


def rule_label(rule: str | None, code: str | None = None) -> str:
    """A rule id with its name in the page language: "R3 Badge", or with a reason's code
    "R3 Badge reported lost"; the id alone when it has no name."""
    from zones.messages import reason_title

    if not rule:
        return ""
    title = reason_title(code or "", rule, current_language())
    return f"{rule} {title}" if title else rule


def reason_title(reason: Any) -> str:
    """The title of a reason (a ``Reason`` or a stored mapping) in the page language."""
    from zones.messages import reason_title as title

    get = reason.get if isinstance(reason, Mapping) else lambda key, default="": getattr(reason, key, default)
    return title(str(get("code", "") or ""), str(get("rule", "") or ""), current_language())


# stored enumeration values -> the English label shown for them (then translated)
ENUM_LABELS: dict[str, str] = {
    "resident_id": N_("Resident identity card"),
    "passport": N_("Passport"),
    "other": N_("Other document"),
    "video": N_("Video"),
    "verbal": N_("Verbal"),
    "written": N_("Written"),
    "warning": N_("Warning"),
    "cancel-visit": N_("Cancel the visit"),
    "ban": N_("Ban"),
    "booked": N_("Booked"),
    "on-site": N_("On site"),
    "closed": N_("Closed"),
    "pending": N_("Pending"),
    "approved": N_("Approved"),
    "revoked": N_("Revoked"),
    "active": N_("Active"),
    "returned": N_("Returned"),
    "lost": N_("Lost"),
    "visitor": N_("Visitor"),
    "employee": N_("Employee"),
    "general": N_("General"),
    "high-risk": N_("High-risk"),
    "decision": N_("Decision"),
    "passage": N_("Passage"),
    "read": N_("Card read"),
    "fault": N_("Fault"),
    "emergency": N_("Emergency"),
    "in": N_("Entry"),
    "out": N_("Exit"),
    "ready": N_("Ready"),
    "released": N_("Released"),
    "faulted": N_("Faulted"),
    # R13 permissions a contact form grants
    "photography": N_("Photography"),
    "electrical-devices": N_("Electrical devices"),
    "vehicle": N_("Vehicle"),
}


def label(value: str | None, lang: str | None = None) -> str:
    """The translated label of a stored enumeration value (``on-site`` -> "On site" / "在厂")."""
    if value is None:
        return ""
    return translate(ENUM_LABELS.get(value, value), lang)


def _locale() -> str:
    return LOCALES[current_language()]


def init_app(app: Flask) -> None:
    """Set up Flask-Babel and register ``_``, ``reason_text``, ``label`` ... in Jinja (idempotent)."""
    if app.extensions.get("sitegate_i18n"):
        return
    app.extensions["sitegate_i18n"] = True
    Babel(app, locale_selector=_locale, default_translation_directories=str(TRANSLATIONS))
    # the i18n extension (added by Flask-Babel) adds this method to the environment at run time
    app.jinja_env.install_gettext_callables(_escaped_gettext, _escaped_ngettext, newstyle=True)  # type: ignore[attr-defined]
    app.jinja_env.globals.update(
        current_language=current_language,
        reason_text=reason_text,
        error_text=error_text,
        LANGUAGES=LANGUAGES,
        label=label,
        tr=translate,
        rule_label=rule_label,
        rule_name=rule_name,
        reason_title=reason_title,
        zone_name=zone_name,
        department_name=department_name,
        site_title=site_title,
    )
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["rule_label"] = rule_label
    app.jinja_env.filters["rule_option"] = lambda rule: (rule, rule_label(rule))
    app.jinja_env.filters["department_name"] = department_name
    app.jinja_env.filters["listed"] = lambda items: list_of([str(i) for i in items])  # "a, b" / "a、b"
    app.jinja_env.filters["department_pair"] = lambda department: (department, department_name(department))
    app.jinja_env.filters["tr_pair"] = lambda value: (value, label(value))
