"""The languages SiteGate speaks and the spellings accepted for them.

Internally a language is ``"en"`` or ``"zh"`` (Simplified Chinese; its catalogue is
``zh_Hans``). Where a person configures a language (``site.language``, an employee's own
language, the page switch) the usual locale spellings are accepted too.
"""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("en", "zh")

# lower-cased spelling -> internal id
_ALIASES: dict[str, str] = {
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "zh": "zh",
    "zh-cn": "zh",
    "zh-hans": "zh",
    "zh-hans-cn": "zh",
    "zh-sg": "zh",
}


def normalise_language(value: str | None) -> str | None:
    """The internal id for ``value`` (``zh-CN``, ``zh_CN``, ``zh-Hans`` -> ``zh``), or None
    when it names no language SiteGate has."""
    if not value:
        return None
    return _ALIASES.get(value.strip().replace("_", "-").lower())
