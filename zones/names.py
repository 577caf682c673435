"""The names people read for the site's ids, in each language.

config.toml names zones, departments and the site in English (``name``) and optionally in
Chinese (``name_zh``); pages and denial reasons show the name in the reader's language and
fall back to the English name, then to the id, so an id never has to be shown where a name
is configured. Built once from the config (``SiteConfig.names()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Name:
    """One thing's name: English, and Chinese when the config gives one."""

    en: str
    zh: str | None = None

    def said_in(self, lang: str) -> str:
        """The name in ``lang`` ("en" or "zh"); Chinese falls back to English."""
        return self.zh if lang == "zh" and self.zh else self.en


@dataclass(frozen=True)
class SiteNames:
    """Zone, department and site names by id (``zone("smelting", "zh")`` -> "炼钢车间")."""

    site: Name = Name("SiteGate site")
    zones: Mapping[str, Name] = field(default_factory=dict)
    departments: Mapping[str, Name] = field(default_factory=dict)

    def zone(self, zone_id: str, lang: str) -> str:
        """The zone's name in ``lang``; an unknown id is shown as it is."""
        name = self.zones.get(zone_id)
        return name.said_in(lang) if name else zone_id

    def department(self, department_id: str, lang: str) -> str:
        """The department's name in ``lang``; a department the config does not name keeps its id."""
        name = self.departments.get(department_id)
        return name.said_in(lang) if name else department_id

    def zone_called(self, english_name: str) -> str | None:
        """The id of the zone whose English name this is (reasons recorded before they
        carried the zone's id name the zone only by its English name)."""
        return next((zid for zid, n in self.zones.items() if n.en == english_name), None)
