"""A simulated serial card reader: a real pty that speaks ``em4100`` or ``line``.

Usage::

    sim = PtyReaderSim("em4100")
    reader = SerialCardReader("gate-1", "em4100", sim.port)   # the driver opens sim.port
    sim.present("0A00C0FFEE")          # writes b"\\x020A00C0FFEEDB\\x03" to the wire
    sim.write_raw(b"\\x02garbage")      # anything, for malformed-frame tests
    sim.close()                        # the port disappears, as when a USB reader is unplugged

What of the wire it models: the byte stream a reader module sends on its TX line (the
driver only listens; nothing it writes reaches the sim). The pty is raw (no echo, no line
editing). It does not model baud timing (a pty delivers at memory speed, whatever ``baud``
the driver sets), parity or line noise (use ``write_raw``). Like a UART whose receiver is not
being read, bytes written while the pty buffer is full are lost (logged), never blocking the
caller. Bytes written before the driver opens the port are lost too (pyserial flushes
the input on open, as with a real port). Closing the sim removes the tty path, so the driver sees the device go away.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import termios
import threading
import tty

from hardware.framing import encode_em4100, encode_line

log = logging.getLogger(__name__)

_ENCODERS = {"em4100": encode_em4100, "line": encode_line}


class PtyReaderSim:
    """One simulated reader on a fresh pty. Thread-safe ``present`` / ``write_raw``."""

    def __init__(self, protocol: str) -> None:
        if protocol not in _ENCODERS:
            raise ValueError(f"no simulator for reader protocol {protocol!r}")
        self.protocol = protocol
        self._lock = threading.Lock()
        self._master, self._slave = os.openpty()
        # Raw line discipline before anyone opens it: no echo, no CR/LF translation.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        # Holding the slave open keeps the tty path alive while the driver reconnects.
        self.port: str = os.ttyname(self._slave)
        self.closed = False

    def present(self, card: str) -> None:
        """Send the frame of ``card`` as the reader would when the card is held to it.
        Raises ValueError for a card the protocol cannot carry."""
        self.write_raw(_ENCODERS[self.protocol](card))
        log.info("sim reader %s: card %s presented", self.port, card)

    def write_raw(self, data: bytes) -> None:
        """Put ``data`` on the wire as is. Raises OSError once closed."""
        with self._lock:
            if self.closed:
                raise OSError(f"simulated reader {self.port} is closed")
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(self._master, view) :]
                except BlockingIOError:
                    log.warning("sim reader %s: nobody reading, %d bytes lost", self.port, len(view))
                    return

    def pending_bytes(self) -> int:
        """Bytes written but not yet read by the driver (the tty's input queue)."""
        with self._lock:
            if self.closed:
                return 0
            raw = fcntl.ioctl(self._slave, termios.TIOCINQ, b"\0\0\0\0")
            return int(struct.unpack("i", raw)[0])

    def close(self) -> None:
        """Close the pty (its path goes away). Idempotent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            os.close(self._master)
            os.close(self._slave)
