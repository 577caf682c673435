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
A visitor's card the gate holds for their escort prints "waiting for the escort (R10, N s)"
and returns at once; the escort's card then prints "confirmed <card> <name> -> ALLOWED" for
each visitor it confirmed, its own decision, and returns without waiting for the turnstile.
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
    card = reply["card"].upper()
    print(f"card {card} presented at {args.gate}")
    deadline = time.monotonic() + args.wait
    decision = passage = None
    escorted: list[Any] = []  # the decisions of the visitors this card confirmed as their escort (R10)
    while time.monotonic() < deadline:
        for event in events.new():
            mine = (event.card or "").upper() == card
            if event.kind == "read" and mine and (event.detail or {}).get("waiting") == "escort":
                # The gate holds the visitor's card for their escort (R10): say so and give
                # the terminal back, so the escort's card can be presented from it.
                print(f"waiting for the escort (R10, {event.detail.get('window_s', 0):g} s)")
                return 0
            if event.kind == "decision" and not mine and decision is None and event.escort_id is not None:
                escorted.append(event)  # a waiting visitor decided with an escort: maybe this card
            elif event.kind == "decision" and mine and decision is None:
                decision = event
                if "escorting" in (event.detail or {}):
                    _print_confirmed([e for e in escorted if e.escort_id == event.person_id], events)
                _print_decision(event)
                if (event.detail or {}).get("escorting"):
                    # the turnstile now releases for each in turn; the terminal is not held
                    if event.allowed:
                        print("turnstile releases for each in turn, the visitors first")
                    else:
                        print("turnstile releases for the visitors only")
                    return 0
            elif event.kind == "passage" and mine and decision is not None and passage is None:
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


def _print_confirmed(visitors: list[Any], events: _EventView) -> None:
    """The visitors an escort's card confirmed (R10): "confirmed <card> <name> -> ALLOWED",
    or the visitor's denial with its reasons."""
    names = events.names([v.person_id for v in visitors])
    for v in visitors:
        name = names.get(v.person_id, "?")
        if v.allowed:
            print(f"confirmed {v.card} {name} -> ALLOWED")
        else:
            print(f"{v.card} {name} -> DENIED")
            _print_reasons(v)


def _print_decision(event: Any) -> None:
    print("ALLOWED" if event.allowed else "DENIED")
    _print_reasons(event)


def _print_reasons(event: Any) -> None:
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

    def new(self) -> list[Any]:
        """The gate's events since the last call, oldest first."""
        if self.error is not None or self._engine is None:
            return []
        from sqlalchemy import select

        from zones.schema import Event

        try:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    select(
                        Event.id,
                        Event.kind,
                        Event.card,
                        Event.person_id,
                        Event.escort_id,
                        Event.allowed,
                        Event.reasons,
                        Event.passed,
                        Event.detail,
                    )
                    .where(Event.gate == self.gate, Event.id > self._last_id)
                    .order_by(Event.id)
                ).all()
        except Exception as err:
            self.error = f"cannot read events: {err}"
            return []
        if rows:
            self._last_id = rows[-1].id
        return list(rows)

    def names(self, person_ids: list[int]) -> dict[int, str]:
        """Names of people by id (a name is not personal data in the R20 sense)."""
        if not person_ids or self._engine is None:
            return {}
        from sqlalchemy import select

        from zones.schema import Person

        try:
            with self._engine.connect() as conn:
                return dict(conn.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids))).all())
        except Exception:
            return {}
