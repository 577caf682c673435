"""The two device kinds a gate is made of, as small abstract classes.

A real driver and its simulator both implement these, so the controller never knows which
one it has. Every driver raises only the ``HardwareError`` hierarchy below, chained from the
library's own exception (``raise ... from err``).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal


class HardwareError(Exception):
    """Base of every error a driver raises."""


class HardwareInitError(HardwareError):
    """The device or port could not be opened or configured."""


class HardwareTimeout(HardwareError):
    """The device did not answer in time."""


class HardwareOperationError(HardwareError):
    """The device answered with an error, or the link broke during an operation."""


@dataclass(frozen=True, slots=True)
class CardRead:
    """A card number read by a reader.

    ``card`` is upper-case (hex for em4100 and osdp). ``read_at`` is ``time.monotonic()``
    when the read was complete on our side (the last byte of the frame arrived, or the
    library delivered it); the controller ignores reads that are stale when it gets them.
    """

    reader_id: str
    card: str
    read_at: float = field(default_factory=time.monotonic)


Feedback = Literal["granted", "denied", "waiting", "idle"]


class CardReader(ABC):
    """A card reader. Runs its own background thread once started."""

    reader_id: str

    @abstractmethod
    def start(self, on_card: Callable[[CardRead], None]) -> None:
        """Open the port and start delivering reads to ``on_card`` from a background thread.

        Never raises for a missing port: the reader keeps retrying (reconnect) and shows
        it in ``health()``. ``on_card`` must not block for long; exceptions it raises are
        logged and do not stop the reader.
        """

    @abstractmethod
    def stop(self) -> None:
        """Stop the thread and close the port. Idempotent; returns within about a second."""

    @abstractmethod
    def health(self) -> dict[str, object]:
        """Counters and state for the gate's health view: at least ``online`` (bool),
        ``frames`` (good frames), ``discarded`` (bad frames, per reason under
        ``discarded_by_reason``), ``last_error`` (str | None)."""

    def feedback(self, what: Feedback) -> None:  # noqa: B027 - optional: most readers have no feedback channel
        """Show a decision on the reader (LED / buzzer). Plain serial readers have no
        feedback channel, so the default does nothing."""


class IoModule(ABC):
    """A Modbus I/O module: coils drive turnstile releases, discrete inputs report
    passages and the fire alarm. Thread-safe: several gates may share one module."""

    @abstractmethod
    def write_coil(self, address: int, value: bool) -> None:
        """Set one coil. Raises ``HardwareError`` when the module cannot be reached or
        refuses (the caller then faults the gate and keeps entry locked)."""

    @abstractmethod
    def read_inputs(self, address: int, count: int = 1) -> list[bool]:
        """Read ``count`` discrete inputs starting at ``address``. Raises ``HardwareError``."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection. Idempotent."""

    @property
    @abstractmethod
    def connected(self) -> bool:
        """Whether the last operation reached the module."""
