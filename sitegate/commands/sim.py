"""``sitegate sim``: drive the simulated gates of a running ``sitegate serve`` from a second
terminal, and show what the gate did.

    sitegate sim present --gate smelting-east --card 0A00C0FFEE [--wait 10] [--no-pass]
    sitegate sim alarm on|off
    sitegate sim status
    sitegate sim raw --gate smelting-east --hex 02414203      # malformed frames, for demos

``present`` writes the card's frame into the gate's simulated reader (hardware.sim_control
socket, ``sim.sock`` next to the SQLite database), then waits up to ``--wait`` seconds for
the gate's events in the central database and prints the decision (ALLOWED / DENIED with
each ``R..: message``) and what the turnstile did (released, person passed / not passed).
``--no-pass``: nobody walks through on that release (the "not passed" path).
Exit status: 0 when the decision was shown, 1 when no serve is listening or no decision
arrived in time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from hardware.sim_control import request
from sitegate.hardware_wiring import sim_socket_path
from sitegate.options import config_option
from sitegate.wiring import load_or_exit

POLL_S = 0.1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--socket", help="control socket (default: sim.sock next to the database)")
    sub = parser.add_subparsers(dest="sim_op", required=True, metavar="OP")
    p = sub.add_parser(
        "present", parents=[config_option()], help="present a card at a simulated gate and show the outcome"
    )
    p.add_argument("--gate", required=True)
    p.add_argument("--card", required=True)
    p.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the outcome (default 10)")
    p.add_argument("--no-pass", action="store_true", help="nobody walks through when released")
    a = sub.add_parser("alarm", parents=[config_option()], help="set the simulated fire-alarm input")
    a.add_argument("state", choices=["on", "off"])
    sub.add_parser("status", parents=[config_option()], help="coils and inputs of every simulated gate")
    r = sub.add_parser("raw", parents=[config_option()], help="write raw bytes (hex) on a simulated reader's wire")
    r.add_argument("--gate", required=True)
    r.add_argument("--hex", required=True)


def run(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    path = Path(args.socket) if args.socket else sim_socket_path(config)
    try:
        if args.sim_op == "present":
            return _present(args, config, path)
        if args.sim_op == "alarm":
            reply = _checked(request(path, {"op": "alarm", "on": args.state == "on"}))
            print(f"fire alarm {'ON' if reply['alarm'] else 'off'}")
            return 0
        if args.sim_op == "raw":
            _checked(request(path, {"op": "raw", "gate": args.gate, "hex": args.hex}))
            print(f"{len(bytes.fromhex(args.hex))} bytes written on the reader wire of {args.gate}")
            return 0
        _print_status(_checked(request(path, {"op": "status"})))
        return 0
    except OSError as err:
        print(f"no running `sitegate serve` with simulated gates at {path} ({err.strerror or err})")
        return 1
    except _SimError as err:
        print(f"error: {err}")
        return 1


class _SimError(Exception):
    pass


def _checked(reply: dict[str, Any]) -> dict[str, Any]:
    if not reply.get("ok"):
        raise _SimError(reply.get("error", "refused"))
    return reply


def _print_status(reply: dict[str, Any]) -> None:
    for gate, s in reply["gates"].items():
        if "release_coil" in s:
            print(
                f"{gate:20} coil {s['release_coil']}={int(s['coil'])}  input {s['passage_input']}={int(s['input'])}"
                f"  releases {s['releases']}  passes {s['passes']}  reader {s.get('reader')}"
            )
        else:
            print(f"{gate:20} reader {s.get('reader')}")
    alarm = reply.get("alarm")
    if alarm is not None:
        print(f"fire alarm input {alarm['input']}: {'ON' if alarm['on'] else 'off'}")


def _present(args: argparse.Namespace, config: Any, path: Path) -> int:
    events = _EventView(config.site.database, args.gate)
    try:
        return _present_and_watch(args, path, events)
    finally:
        events.close()


def _present_and_watch(args: argparse.Namespace, path: Path, events: _EventView) -> int:
    before = _checked(request(path, {"op": "status"}))["gates"].get(args.gate, {})
    message: dict[str, Any] = {"op": "present", "gate": args.gate, "card": args.card}
    if args.no_pass:
        message["pass"] = False
    reply = _checked(request(path, message))
    print(f"card {reply['card']} presented at {args.gate}")
    deadline = time.monotonic() + args.wait
    decision = passage = None
    while time.monotonic() < deadline:
        for event in events.new(reply["card"]):
            if event.kind == "decision" and decision is None:
                decision = event
                _print_decision(event)
            elif event.kind == "passage" and decision is not None and passage is None:
                passage = event
        if decision is not None and (not decision.allowed or passage is not None):
            break
        time.sleep(POLL_S)
    after = _checked(request(path, {"op": "status"}))["gates"].get(args.gate, {})
    released = after.get("releases", 0) > before.get("releases", 0)
    walked = after.get("passes", 0) > before.get("passes", 0)
    if events.error is not None and decision is None:
        # No central events to read (database unreachable): the turnstile alone tells.
        print(f"(decision not shown: {events.error})")
    if decision is not None and not decision.allowed:
        print("turnstile stays locked" + ("" if not released else " (but the coil moved!)"))
        return 0
    if passage is not None:
        coil = f" (coil {after['release_coil']})" if "release_coil" in after else ""
        print(f"turnstile released{coil} ... " + ("person passed" if passage.passed else "not passed"))
        return 0
    if released:
        print("turnstile released ... " + ("person passed" if walked else "nobody passed yet"))
    if decision is None:
        print(f"no decision recorded for {args.gate} within {args.wait:g} s")
        return 1
    print(f"no passage recorded within {args.wait:g} s")
    return 0


def _print_decision(event: Any) -> None:
    print("ALLOWED" if event.allowed else "DENIED")
    for reason in event.reasons or []:
        if isinstance(reason, dict):
            print(f"  {reason.get('rule', '?')}: {reason.get('message', '')}")
        else:
            print(f"  {reason}")


class _EventView:
    """The gate's rows of the central events table newer than when the view was made."""

    def __init__(self, database: str, gate: str) -> None:
        self.gate = gate
        self.error: str | None = None
        self._last_id = 0
        self._engine: Any = None
        try:
            from sqlalchemy import func, select

            from zones.db import make_engine
            from zones.schema import Event

            self._engine = make_engine(database)
            with self._engine.connect() as conn:
                self._last_id = conn.execute(
                    select(func.coalesce(func.max(Event.id), 0)).where(Event.gate == gate)
                ).scalar_one()
        except Exception as err:  # the view is optional: the sim still works without it
            self.error = f"cannot read events: {err}"

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def new(self, card: str) -> list[Any]:
        if self.error is not None or self._engine is None:
            return []
        from sqlalchemy import select

        from zones.schema import Event

        try:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    select(Event.id, Event.kind, Event.card, Event.allowed, Event.reasons, Event.passed)
                    .where(Event.gate == self.gate, Event.id > self._last_id)
                    .order_by(Event.id)
                ).all()
        except Exception as err:
            self.error = f"cannot read events: {err}"
            return []
        if rows:
            self._last_id = rows[-1].id
        return [r for r in rows if (r.card or "").upper() == card.upper()]
