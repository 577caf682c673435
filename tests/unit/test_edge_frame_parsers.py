"""The bad-input campaign over the reader frame parsers (issue 10): whatever bytes arrive,
the em4100 and line framers and the OSDP card-data conversion raise nothing, and a card
comes only from a frame that is exactly right ("never decided on" a corrupt frame,
contract.md "Reader protocols")."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.framing import ETX, STX, Em4100Framer, LineFramer, em4100_checksum, encode_em4100
from hardware.osdp_reader import CARD_DATA_MAX, card_number

HEX_CARD = st.text("0123456789ABCDEF", min_size=10, max_size=10)
FAST = settings(deadline=None, max_examples=300)


def _valid_em4100_frames(data: bytes) -> set[str]:
    """Every card spelled by an exact em4100 frame somewhere in ``data``."""
    out = set()
    for i in range(len(data) - 13):
        if data[i] == STX and data[i + 13] == ETX:
            body = data[i + 1 : i + 13]
            try:
                text = body.decode("ascii").upper()
                if em4100_checksum(text[:10]) == text[10:]:
                    out.add(text[:10])
            except ValueError:
                continue
    return out


@FAST
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=6))
def test_em4100_any_bytes_in_any_split_only_exact_frames_decide(data: bytes, cuts: list[int]) -> None:
    framer, cards, last = Em4100Framer(), [], 0
    for cut in sorted(min(c, len(data)) for c in cuts) + [len(data)]:
        cards += framer.feed(data[last:cut])
        last = cut
    assert set(cards) <= _valid_em4100_frames(data)


@FAST
@given(HEX_CARD, st.integers(0, 13), st.integers(0, 255))
def test_em4100_one_corrupted_byte_is_never_a_card(card: str, at: int, value: int) -> None:
    frame = bytearray(encode_em4100(card))
    if bytes([frame[at]]).upper() == bytes([value]).upper():
        value = frame[at] ^ 0x40  # a real change, not the same hex digit in the other case
    frame[at] = value
    framer = Em4100Framer()
    assert framer.feed(bytes(frame)) == []
    assert sum(framer.discarded.values()) >= 1 or at in (0, 13)


@FAST
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=6))
def test_line_any_bytes_give_only_short_alphanumeric_cards_that_were_sent(data: bytes, cuts: list[int]) -> None:
    framer, cards, last = LineFramer(), [], 0
    for cut in sorted(min(c, len(data)) for c in cuts) + [len(data)]:
        cards += framer.feed(data[last:cut])
        last = cut
    lines = {part.strip(b" \t").upper() for part in data.replace(b"\r", b"\n").split(b"\n")}
    for card in cards:
        assert 1 <= len(card) <= 32 and card.isascii() and card.isalnum() and card == card.upper()
        assert card.encode() in lines


@FAST
@given(
    st.one_of(
        st.none(),
        st.binary(max_size=64),
        st.lists(st.integers(-300, 600), max_size=40),
        st.text(max_size=20),
        st.integers(),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    )
)
def test_osdp_card_data_of_any_shape_is_a_card_number_or_discarded(data: Any) -> None:
    card = card_number({"data": data})
    well_formed = (
        isinstance(data, bytes | list)
        and 0 < len(data) <= CARD_DATA_MAX
        and all(isinstance(b, int) and 0 <= b <= 255 for b in data)
    )
    if well_formed:
        assert card == bytes(data).hex().upper()
    else:
        assert card is None
    assert card_number({}) is None
