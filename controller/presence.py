"""Who is inside which zone, as this controller process sees it (R10 charge, R15).

The central presence table (in the snapshot) is the base; passages this process journalled
but the centre has not confirmed yet are laid on top, so a person who just walked in is
inside for anti-passback at once, even with the database unreachable. An overlay entry is
dropped when a snapshot built after its event was shipped arrives.
"""

from __future__ import annotations

import threading
from collections import Counter

from zones.snapshot import PresenceFact


class PresenceView:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._base: dict[int, PresenceFact] = {}
        self._overlay: dict[int, tuple[PresenceFact | None, int]] = {}  # person -> (where, journal seq)
        self._merged: dict[int, PresenceFact] = {}
        self._occupancy: Counter[str] = Counter()
        self._charge: Counter[int] = Counter()  # escort id -> visitors inside
        self._in_flight: Counter[int] = Counter()  # released, not yet through

    # -- updates ---------------------------------------------------------------------
    def load_base(self, base: dict[int, PresenceFact], shipped_seq: int) -> None:
        """Take a new central view (a snapshot's ``presence``, never changed here); drop
        overlay entries that the centre already has."""
        with self._lock:
            self._base = base
            self._overlay = {p: v for p, v in self._overlay.items() if v[1] > shipped_seq}
            self._rebuild()

    def entered(self, fact: PresenceFact, seq: int) -> None:
        with self._lock:
            self._overlay[fact.person_id] = (fact, seq)
            self._rebuild()

    def left(self, person_id: int, seq: int) -> None:
        with self._lock:
            self._overlay[person_id] = (None, seq)
            self._rebuild()

    def in_flight(self, escort_id: int | None, delta: int) -> None:
        """A visitor released with ``escort_id`` but not through yet counts in their charge."""
        if escort_id is None:
            return
        with self._lock:
            self._in_flight[escort_id] += delta

    def _rebuild(self) -> None:
        merged = dict(self._base)
        for person, (where, _seq) in self._overlay.items():
            if where is None:
                merged.pop(person, None)
            else:
                merged[person] = where
        self._merged = merged
        self._occupancy = Counter(i.zone for i in merged.values())
        self._charge = Counter(i.escort_id for i in merged.values() if i.escort_id is not None and i.kind == "visitor")

    # -- queries (the decision path: dictionary lookups only) ------------------------
    def where(self, person_id: int) -> PresenceFact | None:
        return self._merged.get(person_id)

    def occupancy(self, zone: str) -> int:
        return self._occupancy[zone]

    def charge(self, escort_id: int) -> int:
        return self._charge[escort_id] + self._in_flight[escort_id]

    def everyone(self) -> dict[int, PresenceFact]:
        return dict(self._merged)

    def in_charge(self, escort_id: int, zone: str) -> list[int]:
        """The visitors inside ``zone`` in ``escort_id``'s charge (R10 custody)."""
        merged = self._merged
        return sorted(
            p for p, f in merged.items() if f.escort_id == escort_id and f.zone == zone and f.kind == "visitor"
        )
