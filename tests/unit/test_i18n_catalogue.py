"""The Simplified Chinese catalogue covers every page string and service error: babel extracts
the messages from the templates and the Python code exactly as ``pybabel extract -F babel.cfg
-k translate`` does, and each one needs a real (not fuzzy, not empty) translation in
web/translations/zh_Hans/LC_MESSAGES/messages.po; the committed messages.mo matches it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from web.i18n import error_text, translate
from zones.errors import PROBLEMS, Conflict, Problem, ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "web" / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def extracted() -> dict[str, set[str]]:
    """msgid -> the flags babel gives it (python-format, python-brace-format)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    pot = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={**DEFAULT_KEYWORDS, "translate": None}
    ):
        pot.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return {str(m.id): set(m.flags) for m in pot if m.id}


def catalogue() -> Catalog:
    with open(PO, "rb") as f:
        return read_po(f)


def test_extraction_finds_the_page_strings() -> None:
    found = extracted()
    assert len(found) > 300  # the extraction itself works
    # label tables (N_), brace strings of views (translate) and templates (_) are all found
    assert {
        "Dashboard",
        "Never without the escort.",
        "Resident identity card",
        "Visitor {name} registered.",
        "Valid until %(date)s",
        "Signed out.",
    } <= set(found)
    assert set(PROBLEMS.values()) <= set(found)


def test_every_message_has_chinese() -> None:
    cat = catalogue()
    missing = sorted(m for m in extracted() if m not in cat or not cat[m].string or cat[m].fuzzy)
    assert not missing, "translate in messages.po (pybabel update, then compile):\n" + "\n".join(missing)


def test_no_stale_catalogue_entries() -> None:
    stale = sorted(set(m.id for m in catalogue() if m.id) - set(extracted()))
    assert not stale, f"messages nothing uses any more: {stale}"


def test_chinese_keeps_the_same_parameters() -> None:
    def params(text: str) -> set[str]:
        return set(re.findall(r"%\((\w+)\)s", text)) | set(re.findall(r"\{(\w+)\}", text))

    wrong = [m.id for m in catalogue() if m.id and params(str(m.id)) != params(str(m.string))]
    assert not wrong, f"Chinese with other parameters than the English: {wrong}"


def test_compiled_catalogue_is_up_to_date() -> None:
    with open(MO, "rb") as f:
        compiled = read_mo(f)
    expected = {m.id: m.string for m in catalogue() if m.id}
    assert {m.id: m.string for m in compiled if m.id} == expected, "run: pybabel compile -d web/translations"


def test_translate_fills_parameters_in_both_languages() -> None:
    en = translate("Visitor {name} registered.", "en", name="Li Lei")
    assert en == "Visitor Li Lei registered."
    zh = translate("Visitor {name} registered.", "zh", name="Li Lei")
    assert "Li Lei" in zh and zh != en


def test_service_errors_are_said_from_their_code() -> None:
    err = Conflict(Problem("card-issued", card="0A00"), ["card 0A00"])
    assert str(err) == "card 0A00 is already issued" and err.code == "card-issued"
    assert err.params == {"card": "0A00"}
    assert error_text(err, "en") == "card 0A00 is already issued"
    assert error_text(err, "zh") == "卡 0A00 已发放"
    failed = ValidationFailed([("id_number", Problem("id-check", expected="1", got="8"))])
    ((field, message),) = failed.fields
    assert message == "wrong check character: expected 1, got 8"
    assert error_text(message, "zh") == "校验码错误：应为 1，实际为 8"
    assert error_text("something new", "zh") == "something new"  # no code: as the service said it


@pytest.mark.parametrize("spelling", ["zh", "zh-CN", "zh_CN", "zh-Hans", "zh_Hans", "ZH-cn"])
def test_chinese_spellings_mean_chinese(spelling: str) -> None:
    from zones.languages import normalise_language

    assert normalise_language(spelling) == "zh"
    assert normalise_language("fr") is None


@pytest.mark.parametrize(
    ("configured", "language"), [("zh-CN", "zh"), ("zh_CN", "zh"), ("zh-Hans", "zh"), ("en", "en")]
)
def test_site_language_accepts_the_usual_spellings(configured: str, language: str) -> None:
    from zones.config import ConfigError, parse_config

    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert parse_config(text.replace('language = "en"', f'language = "{configured}"')).site.language == language
    with pytest.raises(ConfigError, match="site.language"):
        parse_config(text.replace('language = "en"', 'language = "fr"'))
