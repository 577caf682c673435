"""Site load: N gates across P ``sitegate controller`` processes on one PostgreSQL, each
gate presented one card a second, with real ptys (em4100 frames into the pty, pyserial in
the controller) and a real pymodbus server (TurnstileSim, in this process: it timestamps
every coil write with the same monotonic clock as the presentations).

    .venv/bin/python -m bench.plant_load [--gates 40] [--controllers 4] [--seconds 60]
        [--kills 0] [--cut-db 0] [--mqtt] [--propagation 10] [--cardholders 2000000]

Measures card-to-coil p50/p99/max (last frame byte in the pty to the coil write at the
Modbus server) for granted entries, shipping lag (sampled from each controller's
``sitegate_shipping_lag_seconds``), CPU per gate (utime+stime of the controller
processes over the load), the load average, propagation, and the count check: every journalled
decision and passage in the central events table exactly once, and ``sitegate audit
verify`` on every journal. Faults: ``--kills K`` SIGKILLs a controller and restarts it K
times during the load; ``--cut-db S`` cuts every controller's PostgreSQL connection (a TCP
proxy) for S seconds mid-load; ``--mqtt`` publishes to a Mosquitto started here on a free
port, stopped and started mid-load, and checks that every message arrived.

Propagation (R3): a visitor's badge reported lost through the HTTP API (``POST
/api/v1/badges/<card>/lost`` to a ``sitegate serve --no-gates`` process, as the reception
desk would), then that card presented every ``PRESENT_EVERY_S`` at an entry gate until the
gate's controller journals a decision denying it as lost: from the moment the call is
made to that decision (the journal's ``at``), and the API call's own round trip. The gate
takes no load cards meanwhile.

``--cardholders N``: the central database also holds N visitors (bench._dataset: the rows
the services write, generated once in SQLite and copied once into a PostgreSQL template,
``sitegate_bench_v<N>_...``, cloned for each run); the propagation badges are theirs, and
each controller builds its snapshot of all of them at start. Without it a few visitors are
registered through the services for the propagation badges.

Cards: employees with access to their gate's zone (allowed, then R15 passback for a repeat
entry), one card in ten unknown (R3); half the gates are exits (always released, R16).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text

from hardware.framing import encode_em4100
from hardware.sim_reader import PtyReaderSim
from hardware.sim_turnstile import POINTS, TurnstileSim
from zones.db import make_engine, session_factory, upgrade
from zones.schema import Event

ROOT = Path(__file__).resolve().parents[1]
ZONES = 10
EMPLOYEES_PER_GATE = 40
SLOW_SYNC_S = 0.5  # controller.runtime.ControllerRuntime.SLOW_SYNC_S
PRESENT_EVERY_S = 0.02  # the propagation card at its gate: the figure's resolution


def _admin(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True, capture_output=True)


def _config(db_url: str, modbus_urls: list[str], gates: int, ports: list[str], mqtt_url: str | None) -> str:
    out = [
        f'[site]\nname = "Load plant"\ntimezone = "Asia/Shanghai"\ndatabase = "{db_url}"\n',
        "[rules]\nstale_read_s = 5\nrepeat_read_s = 0\n",
    ]
    for z in range(ZONES):
        out.append(f'[[zones]]\nid = "z{z}"\nname = "Zone {z}"\ndepartment = "ops"\n')
    for g in range(gates):
        out.append(
            f'[[gates]]\nid = "g{g:03d}"\nzone = "z{g % ZONES}"\ndirection = "{"out" if g % 2 else "in"}"\n'
            f'reader = {{ protocol = "em4100", port = "{ports[g]}" }}\n'
            f'turnstile = {{ modbus = "{modbus_urls[g // POINTS]}", unit = 1, release_coil = {g % POINTS}, '
            f"passage_input = {g % POINTS}, "
            "pulse_ms = 100, pass_timeout_s = 2 }\n"
        )
    if mqtt_url:
        out.append(f'[mqtt]\nurl = "{mqtt_url}"\ntopic_prefix = "load"\n')
    return "\n".join(out)


def _seed(
    db_url: str, gates: int, per_gate: int, zones: dict[str, Any], visitors: int
) -> tuple[dict[int, list[str]], str, list[str]]:
    """Employees through the services (``create_user``): cards by gate; a reception desk's
    API token; and badges of checked-in visitors for the propagation writes (``visitors``
    registered here, or, with --cardholders, taken from the generated population)."""
    from bench._dataset import visitor_values
    from zones.services.items import issue_badge
    from zones.services.people import create_user, register_visitor
    from zones.services.visits import book_visit, check_in

    engine = make_engine(db_url)
    upgrade(engine)
    cards: dict[int, list[str]] = defaultdict(list)
    with session_factory(engine)() as s:
        host, token = create_user(s, "Load desk", "reception", department="ops", zones=zones)
        s.commit()
        badges = list(
            s.scalars(text("SELECT card FROM badges WHERE state = 'active' ORDER BY random() LIMIT :n"), {"n": 100})
        )
        for i in range(0 if badges else visitors):
            number, _ = visitor_values(i, datetime.now(UTC).date())
            v = register_visitor(s, name=f"Visitor {i}", id_type="resident_id", id_number=number)
            visit = book_visit(s, visitor_id=v.id, host_id=host.id, purpose="audit")
            check_in(s, visit.id, number)
            badges.append(issue_badge(s, visit.id, f"0B{i:08X}").card)
        s.commit()
        for g in range(gates):
            for i in range(per_gate):
                card = f"C{g:03d}{i:06d}"  # the generated population has E... cards
                create_user(
                    s,
                    f"Worker {g}-{i}",
                    "guard",
                    department="ops",
                    card=card,
                    access_zones=[f"z{g % ZONES}"],
                    zones=zones,
                )
                cards[g].append(card)
            s.commit()
    engine.dispose()
    return cards, token, badges


class Controller:
    """One ``sitegate controller`` process, restartable."""

    def __init__(self, cid: str, gates: list[str], config: Path, workdir: Path):
        self.cid, self.gates, self.config = cid, gates, config
        self.journal = workdir / f"journal-{cid}.db"
        self.log = workdir / f"{cid}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.metrics_url = ""
        self.cpu_s = 0.0  # of earlier incarnations

    def start(self) -> None:
        self.launch()
        self.wait_running()

    def launch(self) -> None:
        self._runs = self.log.read_text().count(" running") if self.log.exists() else 0
        self._launched = time.monotonic()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sitegate.cli",
                    "--config",
                    str(self.config),
                    "controller",
                    "--gates",
                    ",".join(self.gates),
                    "--id",
                    self.cid,
                    "--journal",
                    str(self.journal),
                    "--metrics-port",
                    "0",
                ],
                cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_running(self) -> float:
        """Seconds from launch until the controller's gates run (its snapshot built)."""
        assert self.proc is not None
        deadline = self._launched + 1800  # 2,000,000 cardholders on a busy machine: minutes
        while self.log.read_text().count(" running") <= self._runs:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"controller {self.cid} did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        ports = re.findall(r"metrics on (http://\S+/metrics)", self.log.read_text())
        self.metrics_url = ports[-1]
        return time.monotonic() - self._launched

    def rss_mib(self) -> float:
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu(self) -> float:
        """CPU seconds of this controller, all incarnations."""
        if self.proc is None or self.proc.poll() is not None:
            return self.cpu_s
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return self.cpu_s + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        assert self.proc is not None
        self.cpu_s = self.cpu()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.cpu_s = self.cpu()
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)

    def metrics(self) -> dict[str, float]:
        """name{first label value} -> value, for the gauges this bench reads."""
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=2) as r:
                body = r.read().decode()
        except OSError:
            return {}
        return {
            s.name: s.value
            for f in text_string_to_metric_families(body)
            for s in f.samples
            if s.name in ("sitegate_shipping_lag_seconds", "sitegate_snapshot_change_number", "sitegate_mqtt_backlog")
        }


def _postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL server's processes now alive (backends that ended in
    between are missed: a lower bound)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text_ = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text_:
            fields = text_.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _percentiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    values = sorted(values)
    q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return f"p50 {q[49]:.1f}  p99 {q[98]:.1f}  max {values[-1]:.1f}"


class ApiServer:
    """``sitegate serve --no-gates``: the web edge the reception desk's call goes to."""

    def __init__(self, config: Path, workdir: Path):
        from tests.integration.mosquitto import free_port

        self.port = free_port()
        self.log = workdir / "serve.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sitegate.cli", "--config", str(config), "serve", "--no-gates"]
                + ["--port", str(self.port)],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"sitegate serve did not start: {self.log.read_text()[-2000:]}") from None
                time.sleep(0.2)

    def post(self, path: str, token: str) -> None:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1{path}",
            method="POST",
            data=b"{}",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


class JournalWatch:
    """Reads a controller's journal (SQLite in WAL mode: a reader never blocks its writer)
    for the decision denying ``card`` as lost (R3)."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.seq = self.db.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]

    def lost_denial(self, card: str) -> datetime | None:
        got = None
        for seq, body in self.db.execute("SELECT seq, body FROM journal WHERE seq > ? ORDER BY seq", (self.seq,)):
            self.seq = seq
            e = json.loads(body)
            if e["kind"] == "decision" and e.get("card") == card:
                if any(r.get("code") == "badge-lost" for r in e.get("reasons") or ()):
                    got = got or datetime.fromisoformat(e["at"])
        return got

    def close(self) -> None:
        self.db.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gates", type=int, default=40)
    ap.add_argument("--controllers", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--kills", type=int, default=0, help="SIGKILL + restart a controller this many times")
    ap.add_argument("--cut-db", type=float, default=0, help="cut the PostgreSQL connections for this many s")
    ap.add_argument("--mqtt", action="store_true", help="publish to a Mosquitto started here; restart it mid-load")
    ap.add_argument("--propagation", type=int, default=10, help="badges reported lost whose propagation is timed")
    ap.add_argument("--cardholders", type=int, default=0, help="visitors in the central database (bench._dataset)")
    ap.add_argument("--employees-per-gate", type=int, default=EMPLOYEES_PER_GATE, help="cards of the load")
    ap.add_argument("--dir", type=Path, default=Path("var/bench"), help="where the generated population is kept")
    args = ap.parse_args(argv)

    import logging

    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="sitegate-load-"))
    name = f"sitegate_load_{secrets.token_hex(3)}"
    if args.cardholders:
        from bench import _dataset

        pop = _dataset.Population(visitors=args.cardholders)
        path, _ = _dataset.cached(args.dir, pop)
        template = _dataset.postgres_copy(path, pop, _admin)
        t0 = time.monotonic()
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        print(f"{args.cardholders:,} cardholders: {name} cloned from {template} in {time.monotonic() - t0:.0f} s")
    else:
        _admin(f'CREATE DATABASE "{name}"')
    direct_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    proxy = None
    db_url = direct_url
    if args.cut_db:
        sys.path.insert(0, str(ROOT))
        from tests.integration.tcpproxy import TcpProxy

        proxy = TcpProxy(("127.0.0.1", 5432))
        proxy.start()
        db_url = direct_url.replace(":5432/", f":{proxy.port}/")
    broker = sub = None
    if args.mqtt:
        from tests.integration.mosquitto import Mosquitto
        from tests.integration.test_plant_mqtt import Subscriber

        broker = Mosquitto(work / "mosquitto")
        broker.start()
        sub = Subscriber(broker.port, "load")
    # one Modbus server per POINTS gates (a simulated I/O module has 64 coils and inputs)
    sims = [TurnstileSim(pass_delay_s=0.05) for _ in range((args.gates + POINTS - 1) // POINTS)]
    for g in range(args.gates):
        sims[g // POINTS].add_turnstile(g % POINTS, g % POINTS)
    for sim in sims:
        sim.start()
    ptys = [PtyReaderSim("em4100") for _ in range(args.gates)]
    config_path = work / "config.toml"
    config_path.write_text(
        _config(db_url, [sim.url for sim in sims], args.gates, [p.port for p in ptys], broker.url if broker else None),
        encoding="utf-8",
    )
    from zones.config import load_config

    zones = load_config(config_path).zone_map()
    t0 = time.monotonic()
    cards, token, lost_badges = _seed(direct_url, args.gates, args.employees_per_gate, zones, args.propagation)
    print(f"seeded {args.gates * args.employees_per_gate} employees in {time.monotonic() - t0:.0f} s", flush=True)
    api = ApiServer(config_path, work)
    gate_ids = [f"g{g:03d}" for g in range(args.gates)]
    controllers = [
        Controller(f"c{i}", gate_ids[i :: args.controllers], config_path, work) for i in range(args.controllers)
    ]
    for c in controllers:
        c.launch()
    starts = [c.wait_running() for c in controllers]
    print(
        f"{len(controllers)} controllers running ({work}), started together in {max(starts):.0f} s, "
        f"RSS {', '.join(f'{c.rss_mib():,.0f}' for c in controllers)} MiB",
        flush=True,
    )

    presented: dict[int, list[float]] = defaultdict(list)  # gate -> monotonic times of frames written
    stop = threading.Event()
    held_gate: list[int] = []  # the gate of a propagation measurement: no load cards there

    def load() -> None:
        rng = random.Random(1)
        period = 1.0 / args.gates  # every gate once a second, spread evenly
        next_at = time.monotonic()
        n = 0
        while not stop.is_set():
            g = n % args.gates
            card = f"0F{rng.getrandbits(32):08X}" if rng.random() < 0.1 else rng.choice(cards[g])
            if g not in held_gate:
                ptys[g].write_raw(encode_em4100(card))
                presented[g].append(time.monotonic())
            n += 1
            next_at += period
            time.sleep(max(0.0, next_at - time.monotonic()))

    def propagate(k: int) -> tuple[float, float] | None:
        """A badge reported lost through the API; (ms from the call to the first gate
        denying it, ms of the call itself), or None when no gate denied it within 10 s."""
        card = lost_badges[k % len(lost_badges)]
        g = (2 * k) % (args.gates - args.gates % 2 or 1)  # even gates are entries
        owner = controllers[g % args.controllers]
        watch = JournalWatch(owner.journal)
        held_gate.append(g)
        try:
            time.sleep(1.5)  # the gate's last load card is through
            called = datetime.now(UTC)
            api.post(f"/badges/{card}/lost", token)
            returned = datetime.now(UTC)
            while (datetime.now(UTC) - called).total_seconds() < 10:
                ptys[g].write_raw(encode_em4100(card))
                time.sleep(PRESENT_EVERY_S)
                denied = watch.lost_denial(card)
                if denied is not None:
                    return (denied - called).total_seconds() * 1000, (returned - called).total_seconds() * 1000
            return None
        finally:
            held_gate.remove(g)
            watch.close()

    cpu0 = {c.cid: c.cpu() for c in controllers}
    pg_cpu0, own_cpu0 = _postgres_cpu(), sum(os.times()[:2])
    loader = threading.Thread(target=load, daemon=True)
    started = time.monotonic()
    loader.start()
    lag_samples: list[float] = []
    loadavg: list[float] = []
    propagation: list[float] = []
    api_ms: list[float] = []
    unseen = 0
    kill_at = [started + args.seconds * (k + 1) / (args.kills + 1) for k in range(args.kills)]
    restarts: list[float] = []
    cut_at = started + args.seconds / 3 if args.cut_db else None
    mqtt_bounce_at = started + args.seconds / 2 if args.mqtt else None
    prop_every = args.seconds / (args.propagation + 1) if args.propagation else None
    next_prop = started + (prop_every or 0)
    sessions = session_factory(make_engine(direct_url))
    rng = random.Random(2)
    k = 0

    while time.monotonic() - started < args.seconds:
        now = time.monotonic()
        loadavg.append(os.getloadavg()[0])
        for c in controllers:
            m = c.metrics()
            if "sitegate_shipping_lag_seconds" in m:
                lag_samples.append(m["sitegate_shipping_lag_seconds"])
        if kill_at and now >= kill_at[0]:
            kill_at.pop(0)
            victim = rng.choice(controllers)
            victim.kill()
            print(f"  {time.monotonic() - started:5.1f} s: SIGKILL {victim.cid}", flush=True)
            victim.launch()
            restarts.append(victim.wait_running())
            print(f"  {time.monotonic() - started:5.1f} s: {victim.cid} running again", flush=True)
        if cut_at is not None and now >= cut_at and proxy is not None:
            cut_at = None
            proxy.stop()
            print(f"  {time.monotonic() - started:5.1f} s: PostgreSQL cut for {args.cut_db:.0f} s", flush=True)
            time.sleep(args.cut_db)
            proxy.start()
            print(f"  {time.monotonic() - started:5.1f} s: PostgreSQL back", flush=True)
        if mqtt_bounce_at is not None and now >= mqtt_bounce_at and broker is not None:
            mqtt_bounce_at = None
            broker.stop()
            time.sleep(5)
            broker.start()
            print(f"  {time.monotonic() - started:5.1f} s: Mosquitto stopped 5 s and started", flush=True)
        if prop_every and now >= next_prop and k < len(lost_badges) and (cut_at is None or not args.cut_db):
            next_prop += prop_every
            got = propagate(k)
            k += 1
            if got is None:
                unseen += 1
            else:
                propagation.append(got[0])
                api_ms.append(got[1])
        time.sleep(0.5)
    stop.set()
    loader.join()
    load_s = time.monotonic() - started
    cpu = {c.cid: c.cpu() - cpu0[c.cid] for c in controllers}
    pg_cpu, own_cpu = _postgres_cpu() - pg_cpu0, sum(os.times()[:2]) - own_cpu0
    rss = [c.rss_mib() for c in controllers]
    time.sleep(3)  # the last passages finish
    for c in controllers:
        c.stop()
    api.stop()

    # card to coil: each coil write after a presentation at that gate (granted entries and exits)
    c2c: list[float] = []
    for g in range(args.gates):
        times = presented[g]
        j = 0
        for t, value in sims[g // POINTS].coil_history(g % POINTS):
            if not value:
                continue
            while j + 1 < len(times) and times[j + 1] <= t:
                j += 1
            if times and times[j] <= t:
                c2c.append((t - times[j]) * 1000)

    # count check: every journalled event in the central table exactly once
    journalled: list[tuple[str, str]] = []
    for c in controllers:
        db = sqlite3.connect(c.journal)
        journalled += [(k, json.loads(b)["kind"]) for k, b in db.execute("SELECT key, body FROM journal")]
        db.close()
    with sessions() as s:
        central = Counter(k for (k,) in s.execute(select(Event.key)))
    kinds = Counter(kind for _, kind in journalled)
    missing = [k for k, _ in journalled if k not in central]
    doubled = [k for k, n in central.items() if n > 1]
    audits = []
    for c in controllers:
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "sitegate.cli",
                "--config",
                str(config_path),
                "audit",
                "verify",
                "--journal",
                str(c.journal),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        audits.append(r.returncode == 0)

    total_presented = sum(len(v) for v in presented.values())
    print(
        f"\nsite load: {args.gates} gates, {args.controllers} controller processes, {load_s:.0f} s, "
        f"{total_presented} presentations, {args.cardholders:,} visitors in the database; load average during "
        f"it {min(loadavg):.1f}-{max(loadavg):.1f} (mean {statistics.fmean(loadavg):.1f}, {os.cpu_count()} cores)"
    )
    print(
        f"  controllers: started in {', '.join(f'{x:.0f}' for x in starts)} s; RSS {', '.join(f'{x:,.0f}' for x in rss)} MiB"
    )
    if restarts:
        print(f"  restarts after SIGKILL until the gates ran: {_percentiles(restarts)} s")
    print(f"  card to coil (ms, {len(c2c)} releases): {_percentiles(c2c)}")
    print(f"  shipping lag (s, {len(lag_samples)} samples of the gauge): {_percentiles(lag_samples)}")
    print(
        f"  propagation, API call -> first gate denying the lost badge (ms, {len(propagation)} badges"
        f"{f', {unseen} not denied within 10 s' if unseen else ''}): {_percentiles(propagation)}"
    )
    print(f"  of which the API call itself (ms): {_percentiles(api_ms)}")
    logs = "".join(c.log.read_text() for c in controllers)
    slow_refresh = [float(x) for x in re.findall(r"slow snapshot refresh: (\d+) ms", logs)]
    slow_ship = [float(x) for x in re.findall(r"slow shipping pass: shipping (\d+) ms", logs)]
    print(
        f"  controller passes over {SLOW_SYNC_S} s: snapshot refreshes {len(slow_refresh)} "
        f"({_percentiles(slow_refresh)} ms), shipping {len(slow_ship)} ({_percentiles(slow_ship)} ms; "
        "its own thread: never in a refresh's way)"
    )
    cpu_total = sum(cpu.values())
    print(
        f"  CPU: {cpu_total / load_s * 100:.0f} % of one core for {args.gates} gates = "
        f"{cpu_total / load_s / args.gates * 100:.2f} % per gate; PostgreSQL {pg_cpu / load_s * 100:.0f} % "
        f"(at least); this bench (load, Modbus server, ptys) {own_cpu / load_s * 100:.0f} %"
    )
    print(f"  journalled: {dict(kinds)}; decisions {kinds['decision']} for {total_presented} presentations")
    print(
        f"  central table: {sum(central.values())} rows; missing {len(missing)}, doubled {len(doubled)}; "
        f"audit verify: {'all green' if all(audits) else audits}"
    )
    if sub is not None and broker is not None:
        published = {k for k, kind in journalled if kind in ("decision", "passage", "fault", "emergency")}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not published <= {b["key"] for _, b in sub.received()}:
            time.sleep(0.5)
        received = {b["key"] for _, b in sub.received()}
        print(
            f"  MQTT: {len(published & received)} of {len(published)} published events received "
            f"({len(sub.received())} messages with QoS 1 repeats)"
        )
        sub.close()
        broker.stop()
    for p in ptys:
        p.close()
    for sim in sims:
        sim.stop()
    if proxy is not None:
        proxy.stop()
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0 if not missing and not doubled and all(audits) else 1


if __name__ == "__main__":
    sys.exit(main())
