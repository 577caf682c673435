"""Reader framing: good frames give cards; malformed frames never give a read, and are
counted by reason (contract.md "Reader protocols": discarded and counted, never decided on)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.framing import (
    Em4100Framer,
    LineFramer,
    em4100_checksum,
    encode_em4100,
    encode_line,
    make_framer,
)

GOOD = b"\x020A00C0FFEEDB\x03"


def feed_bytewise(framer: Em4100Framer | LineFramer, data: bytes) -> list[str]:
    cards: list[str] = []
    for i in range(len(data)):
        cards += framer.feed(data[i : i + 1])
    return cards


# --- em4100 -------------------------------------------------------------------------


def test_em4100_contract_example() -> None:
    assert em4100_checksum("0A00C0FFEE") == "DB"
    assert encode_em4100("0a00c0ffee") == GOOD
    f = Em4100Framer()
    assert f.feed(GOOD) == ["0A00C0FFEE"]
    assert sum(f.discarded.values()) == 0


def test_em4100_lower_case_digits_give_upper_case_card() -> None:
    assert Em4100Framer().feed(b"\x020a00c0ffeedb\x03") == ["0A00C0FFEE"]


def test_em4100_frame_split_across_reads() -> None:
    f = Em4100Framer()
    assert f.feed(GOOD[:5]) == []
    assert f.feed(GOOD[5:13]) == []
    assert f.feed(GOOD[13:]) == ["0A00C0FFEE"]
    assert feed_bytewise(Em4100Framer(), GOOD * 3) == ["0A00C0FFEE"] * 3


def test_em4100_garbage_between_frames_is_counted_not_read() -> None:
    f = Em4100Framer()
    assert f.feed(b"\xff\x00noise" + GOOD + b"\r\n" + GOOD) == ["0A00C0FFEE"] * 2
    assert f.discarded["framing"] == 2  # two runs of stray bytes


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\x020A00C0FFEEDC\x03", "checksum"),  # R-contract: bad checksum
        (b"\x021A00C0FFEEDB\x03", "checksum"),  # one data digit flipped
        (b"\x020A00C0FFEXDB\x03", "charset"),  # non-hex digit
        (b"\x020A00C0FF\xeeEDB\x03", "charset"),  # non-ASCII byte inside
        (b"\x020A00C0FFEEDB00\x03", "framing"),  # too long
        (b"\x020A00C0FFDB\x03", "framing"),  # too short
        (b"\x02\x03", "framing"),  # empty frame
        (b"\x020A00C0\x020A00C0FFEEDC\x03", "checksum"),  # cut short, then bad checksum
    ],
)
def test_em4100_malformed_frame_never_reads(frame: bytes, reason: str) -> None:
    f = Em4100Framer()
    assert f.feed(frame) == []
    assert f.discarded[reason] >= 1
    # and the framer is in sync again for the next good frame
    assert f.feed(GOOD) == ["0A00C0FFEE"]


def test_em4100_frame_cut_short_by_new_stx_then_good_frame() -> None:
    f = Em4100Framer()
    assert f.feed(b"\x020A00C0" + GOOD) == ["0A00C0FFEE"]
    assert f.discarded == {"framing": 1}


def test_em4100_missing_etx_is_discarded_and_memory_bounded() -> None:
    f = Em4100Framer()
    assert f.feed(b"\x02" + b"0" * 10_000) == []
    assert f.discarded["framing"] == 1
    assert f.feed(GOOD) == ["0A00C0FFEE"]


def test_em4100_reset_drops_partial_frame() -> None:
    f = Em4100Framer()
    f.feed(GOOD[:7])
    f.reset()
    assert f.feed(GOOD[7:]) == []
    assert f.feed(GOOD) == ["0A00C0FFEE"]
    assert f.discarded["framing"] == 2  # the partial frame and the orphaned tail


@settings(deadline=None)  # pure and fast; no flaky deadline on a loaded CI machine
@given(
    cards=st.lists(st.text("0123456789ABCDEF", min_size=10, max_size=10), max_size=5),
    noise=st.lists(st.binary(max_size=20).map(lambda b: b.replace(b"\x02", b"")), min_size=6, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
)
def test_em4100_any_split_and_stray_bytes_give_exactly_the_cards(
    cards: list[str], noise: list[bytes], cuts: list[int]
) -> None:
    stream = noise[0] + b"".join(encode_em4100(c) + noise[i + 1] for i, c in enumerate(cards))
    f = Em4100Framer()
    got: list[str] = []
    last = 0
    for cut in sorted(min(c, len(stream)) for c in cuts) + [len(stream)]:
        got += f.feed(stream[last:cut])
        last = cut
    assert got == cards


@settings(deadline=None)
@given(st.binary(max_size=200))
def test_em4100_random_bytes_never_crash(data: bytes) -> None:
    f = Em4100Framer()
    for card in f.feed(data):  # a random valid frame is possible but must be well formed
        assert len(card) == 10 and card == card.upper()


# --- line ---------------------------------------------------------------------------


@pytest.mark.parametrize("ending", [b"\r", b"\n", b"\r\n", b"\n\r"])
def test_line_endings(ending: bytes) -> None:
    f = LineFramer()
    assert f.feed(b"emp0042" + ending + b"V17" + ending) == ["EMP0042", "V17"]
    assert sum(f.discarded.values()) == 0


def test_line_strip_and_upper_case() -> None:
    assert LineFramer().feed(b"  ab12cd \t\r\n") == ["AB12CD"]
    assert encode_line("AB12") == b"AB12\r\n"


def test_line_split_across_reads() -> None:
    f = LineFramer()
    assert f.feed(b"EMP") == []
    assert f.feed(b"0042\r") == ["EMP0042"]
    assert f.feed(b"\n") == []
    assert feed_bytewise(LineFramer(), b"A1\r\nB2\r\n") == ["A1", "B2"]


def test_line_empty_lines_are_not_reads() -> None:
    f = LineFramer()
    assert f.feed(b"\r\n\r\n   \r\n") == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"A" * 33 + b"\r\n", "overlong"),
        (b"A" * 10_000 + b"\r\n", "overlong"),
        (b"EMP-0042\r\n", "charset"),
        (b"EMP 0042\r\n", "charset"),
        (b"EMP\x000042\r\n", "charset"),
        (b"EMP\x1b[0042\r\n", "charset"),
        (b"\xc3\xa9MP0042\r\n", "charset"),
    ],
)
def test_line_malformed_never_reads(data: bytes, reason: str) -> None:
    f = LineFramer()
    assert f.feed(data) == []
    assert f.discarded[reason] == 1
    assert f.feed(b"OK1\r\n") == ["OK1"]


def test_line_exactly_32_is_accepted() -> None:
    assert LineFramer().feed(b"B" * 32 + b"\n") == ["B" * 32]


def test_line_overlong_tail_is_not_read_as_a_card() -> None:
    # the characters after the 32nd must not surface as a card of their own
    f = LineFramer()
    assert f.feed(b"A" * 32 + b"TAIL" + b"\r\n") == []
    assert f.discarded == {"overlong": 1}


def test_line_reset_drops_partial_line() -> None:
    f = LineFramer()
    f.feed(b"EMP00")
    f.reset()
    assert f.feed(b"42\r\n") == ["42"]
    assert f.discarded == {"framing": 1}


def test_make_framer() -> None:
    assert isinstance(make_framer("em4100"), Em4100Framer)
    assert isinstance(make_framer("line"), LineFramer)
    with pytest.raises(ValueError):
        make_framer("osdp")


@pytest.mark.parametrize("bad", ["0A00C0FFE", "0A00C0FFEEX", "0A00C0FFEG"])
def test_encode_em4100_rejects_bad_cards(bad: str) -> None:
    with pytest.raises(ValueError):
        encode_em4100(bad)
