"""Reader wire framing: bytes in, card numbers out. Pure (no I/O, no threads, no clock).

Two serial reader protocols (contract.md, "Reader protocols"):

- ``em4100``: RDM6300-style 125 kHz frames: STX 0x02, ten ASCII hex digits (2 version + 8
  tag), two ASCII hex digits of checksum (XOR of the five data bytes), ETX 0x03. The card
  is the ten hex digits upper case: ``b"\\x020A00C0FFEEDB\\x03"`` -> ``"0A00C0FFEE"``.
- ``line``: an ASCII card number ending in CR and/or LF; surrounding blanks are stripped;
  at most 32 characters, letters and digits only; upper-cased.

Usage::

    framer = make_framer("em4100")          # or Em4100Framer() / LineFramer()
    cards = framer.feed(chunk)              # any split of the byte stream; may return []
    framer.discarded                        # Counter: {"checksum": 1, "framing": 2, ...}

A frame that is not exactly right is discarded and counted by reason, never guessed at
(contract: "never decided on"). Reasons: ``checksum`` (em4100 checksum mismatch),
``framing`` (bytes outside a frame, a frame cut short by a new STX or a lost link,
wrong length, missing ETX), ``overlong`` (line longer than 32 characters), ``charset``
(non-hex digits in an em4100 frame, non-alphanumeric / non-printable in a line).
"""

from __future__ import annotations

from collections import Counter

STX = 0x02
ETX = 0x03
EM4100_DIGITS = 10
LINE_MAX = 32

_HEX = frozenset(b"0123456789ABCDEFabcdef")
_LINE_END = b"\r\n"
_BLANKS = b" \t"


def em4100_checksum(digits: str) -> str:
    """Two upper-case hex digits: XOR of the five bytes the ten hex ``digits`` spell."""
    value = 0
    for byte in bytes.fromhex(digits):
        value ^= byte
    return f"{value:02X}"


def encode_em4100(card: str) -> bytes:
    """The em4100 frame for a ten-hex-digit ``card``. Raises ValueError otherwise."""
    card = card.upper()
    if len(card) != EM4100_DIGITS or not set(card.encode()) <= _HEX:
        raise ValueError(f"em4100 card must be {EM4100_DIGITS} hex digits, got {card!r}")
    return bytes([STX]) + (card + em4100_checksum(card)).encode("ascii") + bytes([ETX])


def encode_line(card: str) -> bytes:
    """The ``line`` frame for ``card``: the ASCII number followed by CR LF."""
    if not card.isascii() or not card.isalnum() or len(card) > LINE_MAX:
        raise ValueError(f"line card must be 1-{LINE_MAX} ASCII letters/digits, got {card!r}")
    return card.encode("ascii") + b"\r\n"


class Em4100Framer:
    """Finds em4100 frames in a byte stream, keeping a partial frame between ``feed`` calls."""

    def __init__(self) -> None:
        self.discarded: Counter[str] = Counter()
        self._frame: bytearray | None = None  # bytes after STX, None = between frames
        self._in_garbage = False  # one count per run of stray bytes

    def feed(self, data: bytes) -> list[str]:
        """Consume ``data``; return the cards of the frames it completed, in order."""
        cards: list[str] = []
        for byte in data:
            if byte == STX:
                if self._frame:  # a new frame started before the old one ended
                    self.discarded["framing"] += 1
                self._frame = bytearray()
                self._in_garbage = False
            elif self._frame is None:
                if not self._in_garbage:
                    self.discarded["framing"] += 1
                    self._in_garbage = True
            elif byte == ETX:
                card = self._finish(bytes(self._frame))
                self._frame = None
                if card is not None:
                    cards.append(card)
            elif len(self._frame) >= EM4100_DIGITS + 2:
                # too long for a frame: drop it and treat the rest as stray bytes
                self.discarded["framing"] += 1
                self._frame = None
                self._in_garbage = True
            else:
                self._frame.append(byte)
        return cards

    def _finish(self, body: bytes) -> str | None:
        if len(body) != EM4100_DIGITS + 2:
            self.discarded["framing"] += 1
            return None
        if not set(body) <= _HEX:
            self.discarded["charset"] += 1
            return None
        text = body.decode("ascii").upper()
        card, check = text[:EM4100_DIGITS], text[EM4100_DIGITS:]
        if em4100_checksum(card) != check:
            self.discarded["checksum"] += 1
            return None
        return card

    def reset(self) -> None:
        """Forget a partial frame (the link dropped); counts it as ``framing``. Keeps counters."""
        if self._frame:
            self.discarded["framing"] += 1
        self._frame = None
        self._in_garbage = False


class LineFramer:
    """Splits a byte stream into CR/LF-terminated card numbers, keeping a partial line."""

    def __init__(self, max_len: int = LINE_MAX) -> None:
        self.discarded: Counter[str] = Counter()
        self.max_len = max_len
        self._line = bytearray()
        self._overlong = False  # dropping bytes up to the next line end

    def feed(self, data: bytes) -> list[str]:
        """Consume ``data``; return the cards of the lines it completed, in order."""
        cards: list[str] = []
        for byte in data:
            if byte in _LINE_END:
                if self._overlong:
                    self._overlong = False
                else:
                    card = self._finish(bytes(self._line).rstrip(_BLANKS))
                    if card is not None:
                        cards.append(card)
                self._line.clear()
            elif not self._overlong and (self._line or byte not in _BLANKS):
                self._line.append(byte)
                # Bound memory: a line that can no longer fit is dropped now, not buffered
                # until a terminator that may never come (a stuck reader, line noise).
                if len(self._line.rstrip(_BLANKS)) > self.max_len or len(self._line) > 4 * self.max_len:
                    self.discarded["overlong"] += 1
                    self._overlong = True
                    self._line.clear()
        return cards

    def _finish(self, text: bytes) -> str | None:
        if not text:
            return None  # the LF of a CR LF pair, or a blank line: not a frame at all
        if len(text) > self.max_len:
            self.discarded["overlong"] += 1
            return None
        if not (text.isascii() and text.isalnum()):
            self.discarded["charset"] += 1
            return None
        return text.decode("ascii").upper()

    def reset(self) -> None:
        """Forget a partial line (the link dropped); counts it as ``framing``. Keeps counters."""
        if self._line.strip(_BLANKS):
            self.discarded["framing"] += 1
        self._line.clear()
        self._overlong = False


Framer = Em4100Framer | LineFramer


def make_framer(protocol: str) -> Framer:
    """A new framer for ``protocol`` ("em4100" or "line"). Raises ValueError otherwise."""
    if protocol == "em4100":
        return Em4100Framer()
    if protocol == "line":
        return LineFramer()
    raise ValueError(f"no serial framing for reader protocol {protocol!r}")
