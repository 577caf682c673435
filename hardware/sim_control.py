"""The control socket of a running ``sitegate serve``'s simulators, for a second terminal.

A unix-domain socket (mode 0600: only the user running ``serve`` may drive its gates) at a
path the wiring chooses (``sitegate.hardware_wiring.sim_socket_path``: ``sim.sock`` next
to the SQLite database file, or ``var/sim.sock`` for PostgreSQL). ``SimSet`` holds the
simulators it drives. One JSON object per line in, one per line out::

    {"op": "present", "gate": "smelting-east", "card": "0A00C0FFEE"}
        -> {"ok": true, "gate": ..., "card": ...}      the frame is written into the gate's pty
           optional "pass": false: nobody walks through on the next release of that gate
    {"op": "raw", "gate": "smelting-east", "hex": "02414203"}   raw bytes on the reader wire
    {"op": "alarm", "on": true}             -> {"ok": true, "alarm": true}
    {"op": "status"}                        -> {"ok": true, "gates": {gate: {"reader": port,
        "release_coil": n, "coil": bool, "passage_input": n, "input": bool,
        "releases": n, "passes": n}}, "alarm": {"input": n, "on": bool} | null}
    anything wrong                          -> {"ok": false, "error": "..."}

Client side: ``request(path, {"op": "status"})`` (used by ``sitegate sim``).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class SimSet:
    """The simulators behind simulated gates (empty when everything is real)."""

    readers: dict[str, Any] = field(default_factory=dict)  # gate id -> PtyReaderSim / OsdpReaderSim
    turnstile: Any | None = None  # TurnstileSim
    gates: dict[str, tuple[int, int]] = field(default_factory=dict)  # gate -> (coil, input) on the sim
    alarm_input: int | None = None  # alarm contact on the sim

    def __bool__(self) -> bool:
        return bool(self.readers) or self.turnstile is not None


def request(path: str | Path, message: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    """Send one request to the control socket; return the reply. Raises OSError
    (ConnectionRefusedError / FileNotFoundError when no ``serve`` is listening)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps(message).encode() + b"\n")
        with sock.makefile("rb") as stream:
            line = stream.readline()
    if not line:
        raise ConnectionError(f"{path}: closed without a reply")
    reply: dict[str, Any] = json.loads(line)
    return reply


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        for line in self.rfile:
            try:
                message = json.loads(line)
                if not isinstance(message, dict):
                    raise ValueError("expected a JSON object")
                reply = self.server.control.handle(message)
            except (ValueError, KeyError, TypeError, RuntimeError, OSError) as err:
                reply = {"ok": False, "error": str(err) or type(err).__name__}
            except Exception as err:  # a simulator bug: answer, log, keep serving
                log.exception("sim control: %r failed", line)
                reply = {"ok": False, "error": f"{type(err).__name__}: {err}"}
            self.wfile.write(json.dumps(reply).encode() + b"\n")


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    control: SimControlServer


class SimControlServer:
    """Serves the control socket for ``sims`` in a thread."""

    def __init__(self, path: str | Path, sims: SimSet) -> None:
        self.path = Path(path)
        self.sims = sims
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen on the socket. Raises RuntimeError if another process is serving it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() or self.path.is_symlink():
            try:
                request(self.path, {"op": "status"}, timeout=1.0)
            except OSError:
                self.path.unlink()  # left behind by a process that did not stop cleanly
            else:
                raise RuntimeError(f"{self.path}: another sitegate serve is driving simulators")
        old_umask = os.umask(0o177)  # create the socket 0600 from the start
        try:
            self._server = _Server(str(self.path), _Handler)
        finally:
            os.umask(old_umask)
        self._server.control = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="sim-control", daemon=True
        )
        self._thread.start()
        log.info("simulator control socket %s (drive it with `sitegate sim ...`)", self.path)

    def close(self) -> None:
        """Stop serving and remove the socket file. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    # -- operations -------------------------------------------------------------------

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        op = message.get("op")
        with self._lock:  # one simulator action at a time keeps the logs readable
            if op == "present":
                return self._present(str(message["gate"]), str(message["card"]), message.get("pass", True))
            if op == "raw":
                sim = self._reader_sim(str(message["gate"]))
                if not hasattr(sim, "write_raw"):
                    raise ValueError(f"gate {message['gate']!r}: its simulated reader takes no raw bytes")
                sim.write_raw(bytes.fromhex(str(message["hex"])))
                return {"ok": True, "gate": message["gate"]}
            if op == "alarm":
                return self._alarm(bool(message["on"]))
            if op == "status":
                return self._status()
        raise ValueError(f"unknown op {op!r} (present, raw, alarm, status)")

    def _reader_sim(self, gate: str) -> Any:
        sim = self.sims.readers.get(gate)
        if sim is None:
            known = ", ".join(sorted(self.sims.readers)) or "none"
            raise ValueError(f"gate {gate!r} has no simulated reader (simulated: {known})")
        return sim

    def _present(self, gate: str, card: str, will_pass: object) -> dict[str, Any]:
        sim = self._reader_sim(gate)
        turnstile = self.sims.turnstile
        if will_pass is False:
            if turnstile is None or gate not in self.sims.gates:
                raise ValueError(f"gate {gate!r} has no simulated turnstile")
            turnstile.skip_next(self.sims.gates[gate][0])
        sim.present(card)
        log.info("sim control: card %s presented at %s", card, gate)
        return {"ok": True, "gate": gate, "card": card.upper()}

    def _alarm(self, on: bool) -> dict[str, Any]:
        if self.sims.turnstile is None or self.sims.alarm_input is None:
            raise ValueError('the alarm input is not simulated ([alarm] modbus = "sim")')
        self.sims.turnstile.set_input(self.sims.alarm_input, on)
        log.warning("sim control: fire alarm %s", "ON" if on else "off")
        return {"ok": True, "alarm": on}

    def _status(self) -> dict[str, Any]:
        turnstile = self.sims.turnstile
        gates: dict[str, dict[str, Any]] = {}
        for gate in sorted(set(self.sims.readers) | set(self.sims.gates)):
            entry: dict[str, Any] = {}
            sim = self.sims.readers.get(gate)
            if sim is not None:
                entry["reader"] = getattr(sim, "port", None)
            if gate in self.sims.gates and turnstile is not None:
                coil, inp = self.sims.gates[gate]
                entry.update(
                    release_coil=coil,
                    coil=turnstile.coil(coil),
                    passage_input=inp,
                    input=turnstile.input(inp),
                    releases=turnstile.releases(coil),
                    passes=sum(1 for _, i in turnstile.passes() if i == inp),
                )
            gates[gate] = entry
        alarm = None
        if turnstile is not None and self.sims.alarm_input is not None:
            alarm = {"input": self.sims.alarm_input, "on": turnstile.input(self.sims.alarm_input)}
        return {"ok": True, "gates": gates, "alarm": alarm}
