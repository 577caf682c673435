"""A null-modem cable between two ptys, for serial protocols without hardware (Modbus RTU).

Usage::

    bridge = PtyBridge()
    server = TurnstileSim(serial_port=bridge.port_a)       # one end
    io = ModbusIoModule(f"rtu://{bridge.port_b}?baud=9600", unit=1)   # the other end
    bridge.close()

What it models: a point-to-point cable; bytes written to one tty arrive on the other, in
order, at memory speed (no baud timing, no RS-485 echo, no noise). A select() loop in a
daemon thread copies between the two pty masters (hardware-notes). Both ttys are raw and
held open by the bridge, so either end may close and reopen its side.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import tty

log = logging.getLogger(__name__)


class PtyBridge:
    """Two ptys whose masters are joined: ``.port_a`` <-> ``.port_b``."""

    def __init__(self) -> None:
        self._master_a, self._slave_a = os.openpty()
        self._master_b, self._slave_b = os.openpty()
        for fd in (self._slave_a, self._slave_b):
            tty.setraw(fd)
        self.port_a: str = os.ttyname(self._slave_a)
        self.port_b: str = os.ttyname(self._slave_b)
        self._wake_r, self._wake_w = os.pipe()
        self._closed = False
        self._thread = threading.Thread(target=self._copy, name="pty-bridge", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        peer = {self._master_a: self._master_b, self._master_b: self._master_a}
        while True:
            readable, _, _ = select.select([self._master_a, self._master_b, self._wake_r], [], [])
            if self._wake_r in readable:
                return
            for fd in readable:
                try:
                    data = os.read(fd, 4096)
                except OSError:  # EIO: no process has that end open right now
                    continue
                if data:
                    self._write_all(peer[fd], data)

    @staticmethod
    def _write_all(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    def close(self) -> None:
        """Stop copying and remove both ttys. Idempotent."""
        if self._closed:
            return
        self._closed = True
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=2)
        for fd in (self._master_a, self._slave_a, self._master_b, self._slave_b, self._wake_r, self._wake_w):
            os.close(fd)
