"""The last access snapshot on the controller's own disk, for a start without the database.

A controller that restarts (power cut, update) while the central database is unreachable
would otherwise know no cardholder at all and deny every entry. It loads the cached
snapshot instead, decides from it with its age shown in the gate health, and replaces it
as soon as the database answers.

The file is written by a thread of its own, at most every ``interval_s`` and only when the
change number moved, in chunks (one ``pickle.dump`` per few thousand persons) so that the
writer gives the GIL back between chunks and never holds up a card on its way to the coil.
It is replaced atomically (write, fsync, rename). The file is only ever read by the
controller that wrote it; it is as sensitive as the database (no phone numbers: the
snapshot holds none, R20).
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
from pathlib import Path
from typing import Any

from zones.facts import PersonFacts
from zones.snapshot import Snapshot

log = logging.getLogger(__name__)

FORMAT = 1
_CHUNK = 5_000


def save(snap: Snapshot, path: Path) -> None:
    """Write ``snap`` to ``path`` atomically."""
    cards_of: dict[int, list[str]] = {}
    extra: list[tuple[str, PersonFacts]] = []  # cards whose facts are not by_id's object
    for card, facts in snap.by_card.items():
        if snap.by_id.get(facts.person_id) is facts:
            cards_of.setdefault(id(facts), []).append(card)
        else:
            extra.append((card, facts))
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tmp.open("wb") as f:
        header = {
            "format": FORMAT,
            "change_no": snap.change_no,
            "built_at": snap.built_at,
            "presence": snap.presence,
            "emergency": snap.emergency,
            "emergency_since": snap.emergency_since,
            "lost_cards": snap.lost_cards,
            "extra": extra,
        }
        pickle.dump(header, f, protocol=pickle.HIGHEST_PROTOCOL)
        persons = list(snap.by_id.values())
        for i in range(0, len(persons), _CHUNK):
            chunk = [(p, cards_of.get(id(p), ())) for p in persons[i : i + _CHUNK]]
            pickle.dump(chunk, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path: Path) -> Snapshot | None:
    """The cached snapshot, or None when there is none or it cannot be read."""
    try:
        with path.open("rb") as f:
            header: dict[str, Any] = pickle.load(f)
            if header.get("format") != FORMAT:
                return None
            by_id: dict[int, PersonFacts] = {}
            by_card: dict[str, PersonFacts] = {}
            while True:
                try:
                    chunk = pickle.load(f)
                except EOFError:
                    break
                for facts, cards in chunk:
                    by_id[facts.person_id] = facts
                    for card in cards:
                        by_card[card] = facts
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError, KeyError) as err:
        log.warning("snapshot cache %s unusable: %s", path, err)
        return None
    for card, facts in header["extra"]:
        by_card[card] = facts
    return Snapshot(
        change_no=header["change_no"],
        built_at=header["built_at"],
        by_card=by_card,
        by_id=by_id,
        presence=header["presence"],
        emergency=header["emergency"],
        emergency_since=header["emergency_since"],
        lost_cards=header["lost_cards"],
    )


class CacheWriter:
    """Saves the runtime's current snapshot every ``interval_s`` when it changed."""

    def __init__(self, path: Path, current: Any, interval_s: float = 60.0):
        self.path, self._current, self.interval_s = path, current, interval_s
        self.saved_change_no: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="controller-snapshot-cache", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def save_now(self) -> None:
        snap: Snapshot = self._current()
        if snap.change_no < 0 or snap.change_no == self.saved_change_no:
            return
        try:
            save(snap, self.path)
        except OSError as err:
            log.warning("snapshot cache not written to %s: %s", self.path, err)
            return
        self.saved_change_no = snap.change_no

    def _run(self) -> None:
        self.save_now()
        while not self._stop.wait(self.interval_s):
            self.save_now()
