"""SerialCardReader against real peers: a pty that speaks the reader protocol, and a real
TCP socket (pyserial ``socket://`` URL). Malformed frames never become a read; the reader
survives its port going away and coming back."""

from __future__ import annotations

import os
import queue
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.base import CardRead
from hardware.framing import encode_em4100
from hardware.serial_reader import SerialCardReader
from hardware.sim_reader import PtyReaderSim

pytestmark = pytest.mark.usefixtures("no_thread_leak")

MARKER = "1122334455"  # a good frame sent after the bad ones: once it arrives, all did


def test_em4100_card_is_read(pty_reader: Callable[..., Any]) -> None:
    pair = pty_reader("em4100", reader_id="smelting-east")
    before = time.monotonic()
    pair.sim.present("0a00c0ffee")
    read = pair.next_read()
    assert (read.reader_id, read.card) == ("smelting-east", "0A00C0FFEE")
    assert before <= read.read_at <= time.monotonic()
    health = pair.reader.health()
    assert health["online"] is True and health["frames"] == 1 and health["discarded"] == 0


def test_line_card_is_read(pty_reader: Callable[..., Any]) -> None:
    pair = pty_reader("line")
    pair.sim.present("emp0042")
    assert pair.next_read().card == "EMP0042"


@pytest.mark.parametrize(
    ("protocol", "chunks", "reason"),
    [
        ("em4100", [b"\x020A00C0FFEEDC\x03"], "checksum"),
        ("em4100", [b"\xff\xfe garbage \x00"], "framing"),
        ("em4100", [b"\x020A00C0FFEXDB\x03"], "charset"),
        ("em4100", [b"\x020A00C0FFEEDB00\x03"], "framing"),
        ("em4100", [b"\x020A00C0"], "framing"),  # cut short by the marker's STX
        ("line", [b"X" * 40 + b"\r\n"], "overlong"),
        ("line", [b"EMP-42\r\n"], "charset"),
        ("line", [b"EMP\x0042\r\n"], "charset"),
    ],
)
def test_malformed_frames_never_produce_a_read(
    pty_reader: Callable[..., Any], protocol: str, chunks: list[bytes], reason: str
) -> None:
    pair = pty_reader(protocol)
    for chunk in chunks:
        pair.sim.write_raw(chunk)
    pair.sim.present(MARKER)
    assert pair.next_read().card == MARKER
    assert pair.reads.empty()
    health = pair.reader.health()
    assert health["frames"] == 1
    assert health["discarded_by_reason"].get(reason, 0) >= 1


def test_frame_split_across_writes_is_one_read(pty_reader: Callable[..., Any], wait_until: Callable[..., Any]) -> None:
    pair = pty_reader("em4100")
    frame = encode_em4100("0A00C0FFEE")
    pair.sim.write_raw(frame[:4])
    # the first half must have reached the driver before the rest is written
    wait_until(lambda: pair.sim.pending_bytes() == 0, what="first half consumed")
    pair.sim.write_raw(frame[4:])
    assert pair.next_read().card == "0A00C0FFEE"
    assert pair.reader.health()["discarded"] == 0


def test_on_card_exception_does_not_stop_the_reader(wait_until: Callable[..., Any]) -> None:
    sim = PtyReaderSim("line")
    reads: list[CardRead] = []

    def on_card(read: CardRead) -> None:
        reads.append(read)
        if len(reads) == 1:
            raise RuntimeError("controller bug")

    reader = SerialCardReader("r", "line", sim.port)
    try:
        reader.start(on_card)
        wait_until(lambda: reader.health()["online"], what="online")
        sim.present("A1")
        sim.present("B2")
        wait_until(lambda: len(reads) == 2, what="both reads")
        assert [r.card for r in reads] == ["A1", "B2"]
    finally:
        reader.stop()
        sim.close()


@pytest.fixture
def link(tmp_path: Path) -> Iterator[Path]:
    """A stable device path (like /dev/serial/by-id/...) that tests point at a new pty."""
    yield tmp_path / "reader0"


def _point(link: Path, target: str) -> None:
    tmp = link.with_suffix(".new")
    os.symlink(target, tmp)
    os.replace(tmp, link)


def test_reader_reconnects_after_port_goes_away_and_comes_back(link: Path, wait_until: Callable[..., Any]) -> None:
    reads: queue.Queue[CardRead] = queue.Queue()
    first = PtyReaderSim("em4100")
    _point(link, first.port)
    reader = SerialCardReader("r", "em4100", str(link))
    second: PtyReaderSim | None = None
    try:
        reader.start(reads.put)
        wait_until(lambda: reader.health()["online"], what="online")
        first.present("0A00C0FFEE")
        assert reads.get(timeout=5).card == "0A00C0FFEE"

        first.write_raw(b"\x020A00C")  # a frame cut by the unplug must not complete later
        first.close()  # unplugged
        wait_until(lambda: not reader.health()["online"], what="offline after unplug")
        assert reader.health()["last_error"]

        second = PtyReaderSim("em4100")  # plugged back in (a new tty behind the same path)
        second.write_raw(b"0FFEEDB\x03")  # the tail of the cut frame: must not be read
        _point(link, second.port)
        wait_until(lambda: reader.health()["online"], what="online again")
        second.present(MARKER)
        assert reads.get(timeout=5).card == MARKER
        assert reads.empty()
        assert reader.health()["reconnects"] == 1
    finally:
        reader.stop()
        first.close()
        if second is not None:
            second.close()


def test_missing_port_at_start_is_retried_not_raised(link: Path, wait_until: Callable[..., Any]) -> None:
    reads: queue.Queue[CardRead] = queue.Queue()
    reader = SerialCardReader("r", "line", str(link))  # nothing there yet
    sim = PtyReaderSim("line")
    try:
        reader.start(reads.put)
        wait_until(lambda: reader.health()["last_error"], what="open error recorded")
        assert reader.health()["online"] is False
        _point(link, sim.port)
        wait_until(lambda: reader.health()["online"], what="online once the port exists")
        sim.present("C3")
        assert reads.get(timeout=5).card == "C3"
    finally:
        reader.stop()
        sim.close()


def test_socket_url_reader_and_reconnect(wait_until: Callable[..., Any]) -> None:
    """The same driver over pyserial's socket:// URL (a reader behind a serial server)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)
    port = server.getsockname()[1]
    reads: queue.Queue[CardRead] = queue.Queue()
    reader = SerialCardReader("r", "em4100", f"socket://127.0.0.1:{port}")
    try:
        reader.start(reads.put)
        conn, _ = server.accept()
        # pyserial's open flushes input: send only once the reader reports online
        wait_until(lambda: reader.health()["online"], what="online")
        with conn:
            conn.sendall(b"\x02" + encode_em4100("0A00C0FFEE")[1:7])
            conn.sendall(encode_em4100("0A00C0FFEE")[7:] + encode_em4100(MARKER))
            assert reads.get(timeout=5).card == "0A00C0FFEE"
            assert reads.get(timeout=5).card == MARKER
        # the serial server dropped the connection: the reader connects again
        conn, _ = server.accept()
        wait_until(lambda: reader.health()["reconnects"] == 1, what="reconnect counted")
        wait_until(lambda: reader.health()["online"], what="online again")
        with conn:
            conn.sendall(encode_em4100("0A00C0FFEE"))
            assert reads.get(timeout=5).card == "0A00C0FFEE"
    finally:
        reader.stop()
        server.close()


def test_stop_is_idempotent_and_stops_the_thread(pty_reader: Callable[..., Any]) -> None:
    pair = pty_reader("line")
    thread = pair.reader._thread
    pair.reader.stop()
    pair.reader.stop()
    assert thread is not None and not thread.is_alive()
    assert pair.reader.health()["online"] is False
