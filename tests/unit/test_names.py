"""Zone, department and site names per language (config.toml ``name`` / ``name_zh``), the
rule names beside rule ids, and denial reasons said with the names in the reader's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from zones.config import ConfigError, load_config, parse_config
from zones.messages import MESSAGES, RULE_NAMES, TITLES, reason, reason_title, render, rule_name
from zones.names import Name, SiteNames

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "config.toml").read_text(encoding="utf-8")

NAMES = SiteNames(
    site=Name("Demo plant", "演示工厂"),
    zones={"assembly": Name("Assembly hall", "装配车间"), "yard": Name("Yard")},
    departments={"assembly": Name("Assembly", "装配部"), "stores": Name("Stores")},
)


def test_a_name_in_chinese_falls_back_to_the_english_name_then_to_the_id() -> None:
    assert NAMES.zone("assembly", "zh") == "装配车间"
    assert NAMES.zone("assembly", "en") == "Assembly hall"
    assert NAMES.zone("yard", "zh") == "Yard"  # no name_zh: the English name
    assert NAMES.zone("unknown", "zh") == "unknown"  # not configured: the id as it is
    assert NAMES.department("stores", "zh") == "Stores"
    assert NAMES.department("assembly", "zh") == "装配部"
    assert NAMES.site.said_in("zh") == "演示工厂" and NAMES.site.said_in("en") == "Demo plant"


def test_the_shipped_config_names_every_zone_and_department_in_chinese() -> None:
    from zones.services import known_departments

    config = load_config(ROOT / "config.toml")
    names = config.names()
    assert names.site.zh and all(names.zones[z.id].zh for z in config.zones)
    assert all(names.departments[d].zh for d in known_departments(config)), "a department without a Chinese name"


def test_a_chinese_denial_says_the_departments_chinese_name_not_its_id() -> None:
    # the example: "没有assembly的安全教育记录" spliced the id into Chinese (R8)
    r = reason("no-education", department="assembly")
    assert render(r, "zh", NAMES) == "没有装配部的安全教育记录；需由装配部安全员进行安全教育"
    assert render(r, "en", NAMES).startswith("no safety education by Assembly on record")


def test_a_chinese_denial_says_the_zones_chinese_name() -> None:
    r = reason("no-helmet", zone="Assembly hall", zone_id="assembly")  # R12
    assert render(r, "zh", NAMES) == "装配车间要求佩戴安全帽，但未发放；请到安全办公室领取"
    # a reason stored before reasons carried the zone's id: found by its English name
    old = reason("zone-full", zone="Assembly hall", limit=3)
    assert render(old, "zh", NAMES).startswith("装配车间已达最大容纳人数")
    assert render(r, "zh") == "Assembly hall要求佩戴安全帽，但未发放；请到安全办公室领取"  # without names: as stored


def test_the_engine_names_the_zone_by_id_in_its_reasons() -> None:
    from tests.unit.test_rules import POLICY, SMELTING, request, visitor  # the rules' own fixtures
    from zones.rules import decide

    decision = decide(request(visitor(helmet=False, education=())), SMELTING, POLICY)  # R12, R8
    assert any(dict(r.params).get("zone_id") == "smelting" for r in decision.reasons)
    said = [render(r, "zh", parse_config(GOOD).names()) for r in decision.reasons]
    assert "冶炼车间要求佩戴安全帽，但未发放；请到安全办公室领取" in said
    assert "没有炼钢部的安全教育记录；需由炼钢部安全员进行安全教育" in said


def test_every_rule_and_reason_has_a_name_in_both_languages() -> None:
    assert set(TITLES) == set(MESSAGES)
    assert {rule for rule, _en, _zh in MESSAGES.values()} <= set(RULE_NAMES)
    assert all(en and zh and en != zh for en, zh in [*RULE_NAMES.values(), *TITLES.values()])
    assert reason_title("badge-lost", "R3", "en") == "Badge reported lost"
    assert reason_title("badge-lost", "R3", "zh") == "访客证已挂失"
    assert reason_title("retired-code", "R3", "zh") == rule_name("R3", "zh") == "访客证"
    assert rule_name("R99", "en") == ""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('name_zh = "装配车间"', 'name_cn = "装配车间"'), "zones[0].name_cn: unknown key (typo?)"),
        (('id = "steelmaking"', 'id = "assembly"'), 'departments[1].id: duplicate department "assembly"'),
        (('id = "dispatch"', 'id = "Dispatch Room"'), "departments[3].id: String should match pattern"),
        (('name = "Dispatch room"\n', ""), "departments[3].name: Field required"),
    ],
)
def test_a_mistake_in_the_names_is_reported_with_the_file_and_key(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ConfigError) as err:
        parse_config(GOOD.replace(old, new, 1), "site.toml")
    assert any(line.startswith(f"site.toml: {expected}") for line in err.value.errors), err.value.errors


def test_names_are_optional() -> None:
    config = parse_config('[[zones]]\nid = "yard"\nname = "Yard"\ndepartment = "stores"\n')
    names = config.names()
    assert names.zone("yard", "zh") == "Yard" and names.department("stores", "zh") == "stores"
