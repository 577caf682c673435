"""Every page string has Simplified Chinese (issue part 5): each ``_("...")`` in the
templates, each ``translate("...")`` in the page views, and the labels kept in tables
(navigation, roles, enumerations, education topics, the seven prohibitions R13)."""

from __future__ import annotations

import re
from pathlib import Path

from web.errors import PAGE_TITLES as ERROR_TITLES
from web.i18n import ENUM_LABELS, translate
from web.i18n_zh import ZH
from web.panel.common import PANEL_NAV, ROLE_LABELS
from web.panel.education import PROHIBITIONS, TOPICS

# messages web.auth hands to the pages (login error, flash), translated by the templates
FROM_OTHER_PARTS = {"Wrong user name or password.", "Signed out."}
ROOT = Path(__file__).resolve().parents[2]
# _("...") / _('...') in templates, translate("...") in views; "{" params stay in the key
CALL = re.compile(r"""\b(?:_|translate)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def page_strings() -> set[str]:
    found: set[str] = set()
    files = [*(ROOT / "web" / "templates").rglob("*.html"), *(ROOT / "web" / "panel").glob("*.py"),
             *(ROOT / "web" / "handheld").glob("*.py")]
    for path in files:
        if "auth" in path.parts and path.name == "standalone.html":
            continue
        for m in CALL.finditer(path.read_text(encoding="utf-8")):
            text = m.group(1) if m.group(1) is not None else m.group(2)
            found.add(text.replace('\\"', '"').replace("\\'", "'"))
    found |= {label for _, label, _, _ in PANEL_NAV}
    found |= set(ROLE_LABELS.values()) | set(ENUM_LABELS.values())
    found |= {text for _, text in TOPICS} | set(PROHIBITIONS) | set(ERROR_TITLES.values()) | {"Error"}
    return found | FROM_OTHER_PARTS


def test_templates_use_the_catalogue() -> None:
    assert len(page_strings()) > 150   # the extraction itself works


def test_every_page_string_has_chinese() -> None:
    missing = sorted(s for s in page_strings() if s not in ZH)
    assert not missing, "add to web/i18n_zh.py:\n" + "\n".join(f'    "{s}": "",' for s in missing)


def test_chinese_keeps_the_same_parameters() -> None:
    def params(text: str) -> set[str]:
        return set(re.findall(r"\{(\w+)\}", text))

    wrong = [en for en, zh in ZH.items() if params(en) != params(zh)]
    assert not wrong, f"Chinese with other {{parameters}} than the English: {wrong}"


def test_no_stale_catalogue_entries() -> None:
    stale = sorted(set(ZH) - page_strings())
    assert not stale, f"strings no page uses any more: {stale}"


def test_translate_fills_parameters_in_both_languages() -> None:
    assert translate("Valid until {date}", "en", date="2026-03-01") == "Valid until 2026-03-01"
    assert "2026-03-01" in translate("Valid until {date}", "zh", date="2026-03-01")
    assert translate("Valid until {date}", "zh", date="x") != translate("Valid until {date}", "en", date="x")


def test_service_messages_in_chinese_when_their_shape_is_known() -> None:
    from web.i18n import service_text

    assert service_text("wrong check character: expected 1, got 8", "zh") == "校验码错误：应为 1，实际为 8"
    assert service_text("card 0A00 is already issued", "zh") == "卡 0A00 已发放"
    assert service_text("card 0A00 is already issued", "en") == "card 0A00 is already issued"
    assert service_text("something new", "zh") == "something new"
