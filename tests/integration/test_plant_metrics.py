"""Metrics (issue 12): the serve process's ``GET /metrics`` parses with prometheus_client's
own parser, reports the gates it runs, and its decision counters and card-to-coil
histogram move when a card is presented."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from controller.runtime import ControllerRuntime
from hardware.modbus_io import ModbusIoModule
from hardware.serial_reader import SerialCardReader
from hardware.sim_reader import PtyReaderSim
from tests.integration.plant import ESCORT_CARD, People, migrated_sqlite, plant_config_text
from web.app import create_app
from zones.config import parse_config

VISITOR = "0A00AE7001"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(all_samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The sum of ``name`` over the samples whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in all_samples.items() if n == name and want <= ls)


def test_metrics_parse_and_move_when_a_card_is_presented(
    tmp_path: Path, make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any], monkeypatch: Any
) -> None:
    monkeypatch.delenv("SITEGATE_METRICS_TOKEN", raising=False)
    url, engine = migrated_sqlite(tmp_path / "central.db")
    sim = make_turnstile_sim(turnstiles=[(0, 0), (1, 1)], pass_delay_s=0.05)
    text = plant_config_text(url, sim.url)  # its secret key beside the database
    config = parse_config(text, "test-plant.toml")
    People(engine, config).visitor(VISITOR)
    pty = PtyReaderSim("em4100")
    io = ModbusIoModule(sim.url, 1)
    runtime = ControllerRuntime(
        config,
        engine,
        {"smelting-east": SerialCardReader("smelting-east", "em4100", pty.port)},
        {"smelting-east": io},
        controller_id="metrics-test",
        journal_path=tmp_path / "journal.db",
        gate_ids=["smelting-east"],
    )
    client = create_app(config, engine=engine, testing=True).test_client()

    def scrape() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        response = client.get("/metrics")
        assert response.status_code == 200 and response.mimetype == "text/plain"
        return samples(response.get_data(as_text=True))

    try:
        runtime.start()
        wait_until(lambda: runtime.db_ok and VISITOR in runtime.site.snapshot.by_card, what="snapshot built")
        before = scrape()
        gate = {"gate": "smelting-east"}
        assert value(before, "sitegate_database_up", controller="metrics-test") == 1
        assert value(before, "sitegate_io_online", controller="metrics-test", **gate) == 1
        assert (
            "sitegate_reader_online",
            frozenset({("controller", "metrics-test"), ("zone", "smelting"), *gate.items()}),
        ) in before
        assert value(before, "sitegate_snapshot_age_seconds", controller="metrics-test") < 5
        assert ("sitegate_journal_backlog", frozenset({("controller", "metrics-test")})) in before

        pty.present("0DEAD00001")  # unknown card: denied, R3
        pty.present(VISITOR)
        pty.present(ESCORT_CARD)  # confirms the waiting visitor (R10), and the escort passes with them
        allowed_before = value(before, "sitegate_decisions_total", outcome="allowed", **gate)
        coils_before = value(before, "sitegate_card_to_coil_seconds_count", **gate)
        wait_until(
            lambda: (
                value(now := scrape(), "sitegate_decisions_total", outcome="allowed", **gate) == allowed_before + 2
                and value(now, "sitegate_card_to_coil_seconds_count", **gate) > coils_before
            ),
            what="the visitor's and the escort's entries allowed, the coil set",
        )
        after = scrape()
        denied = ("sitegate_decisions_total", "denied", "R3")
        assert value(after, denied[0], outcome=denied[1], rule=denied[2], **gate) == (
            value(before, denied[0], outcome=denied[1], rule=denied[2], **gate) + 1
        )
        assert value(after, "sitegate_card_to_coil_seconds_sum", **gate) > value(
            before, "sitegate_card_to_coil_seconds_sum", **gate
        )
    finally:
        runtime.stop()
        io.close()
        pty.close()
        engine.dispose()
    # A stopped runtime is no longer reported.
    assert value(scrape(), "sitegate_database_up", controller="metrics-test") == 0


def test_metrics_token_when_set(tmp_path: Path, monkeypatch: Any) -> None:
    url, engine = migrated_sqlite(tmp_path / "central.db")
    text = plant_config_text(url, "sim")
    client = create_app(parse_config(text), engine=engine, testing=True).test_client()
    monkeypatch.setenv("SITEGATE_METRICS_TOKEN", "s3cret")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    engine.dispose()
