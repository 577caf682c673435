"""The last access snapshot on the controller's own disk, for a start without the database.

A controller that restarts (power cut, update) while the central database is unreachable
would otherwise know no cardholder at all and deny every entry. It loads the cached
snapshot instead, decides from it with its age shown in the gate health, and replaces it
as soon as the database answers.

The file is written by a thread of its own, at most every ``interval_s`` and only when the
change number moved, in chunks (one pickle per few thousand persons) so that the writer
gives the GIL back between chunks and never holds up a card on its way to the coil. It is
replaced atomically (write, fsync, rename), created 0600. The file is only ever read by
the controller that wrote it; it is as sensitive as the database (no phone numbers: the
snapshot holds none, R20).

Unpickling runs code named by the file, so the file is signed: an HMAC-SHA256 over the
whole payload with a key derived from the site's secret key, checked before anything is
unpickled. A cache that is unsigned, tampered with or signed with another key is ignored
with a warning, never loaded.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import os
import pickle
import threading
from pathlib import Path
from typing import Any

from zones.facts import PersonFacts
from zones.snapshot import Snapshot

log = logging.getLogger(__name__)

FORMAT = 2
MAGIC = b"SITEGATE SNAPSHOT CACHE 2\n"
_MAC_SIZE = hashlib.sha256().digest_size
_CHUNK = 5_000


def cache_key(secret_key_file: str | Path) -> bytes:
    """The key the cache is signed with, derived from the site's secret key (web.secret:
    read, or generated on first run) so that it differs from the session cookies' key."""
    from web.secret import load_or_create_secret

    secret = load_or_create_secret(secret_key_file).encode()
    return hmac.new(secret, b"sitegate snapshot cache", hashlib.sha256).digest()


def save(snap: Snapshot, path: Path, key: bytes) -> None:
    """Write ``snap`` to ``path`` atomically, signed with ``key``."""
    cards_of: dict[int, list[str]] = {}
    extra: list[tuple[str, PersonFacts]] = []  # cards whose facts are not by_id's object
    for card, facts in snap.by_card.items():
        if snap.by_id.get(facts.person_id) is facts:
            cards_of.setdefault(id(facts), []).append(card)
        else:
            extra.append((card, facts))
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    mac = hmac.new(key, digestmod=hashlib.sha256)
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(MAGIC + bytes(_MAC_SIZE))  # the signature is written once the payload is

        def put(obj: object) -> None:
            data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
            mac.update(data)
            f.write(data)

        put(
            {
                "format": FORMAT,
                "change_no": snap.change_no,
                "built_at": snap.built_at,
                "presence": snap.presence,
                "emergency": snap.emergency,
                "emergency_since": snap.emergency_since,
                "lost_cards": snap.lost_cards,
                "extra": extra,
            }
        )
        persons = list(snap.by_id.values())
        for i in range(0, len(persons), _CHUNK):
            put([(p, cards_of.get(id(p), ())) for p in persons[i : i + _CHUNK]])
        f.seek(len(MAGIC))
        f.write(mac.digest())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _verified_payload(path: Path, key: bytes) -> bytes | None:
    """The file's payload when its signature is ``key``'s, else None (with a warning)."""
    data = path.read_bytes()
    head = len(MAGIC) + _MAC_SIZE
    if not data.startswith(MAGIC) or len(data) < head:
        log.warning("snapshot cache %s is not a signed cache; ignored", path)
        return None
    payload = data[head:]
    expected = hmac.new(key, payload, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, data[len(MAGIC) : head]):
        log.warning("snapshot cache %s has a wrong signature (tampered, or another site's key); ignored", path)
        return None
    return payload


def load(path: Path, key: bytes) -> Snapshot | None:
    """The cached snapshot, or None when there is none, it cannot be read or its signature
    is not ``key``'s."""
    if not path.exists():
        return None
    try:
        payload = _verified_payload(path, key)
        if payload is None:
            return None
        with io.BytesIO(payload) as f:
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

    def __init__(self, path: Path, current: Any, key: bytes, interval_s: float = 60.0):
        self.path, self._current, self.interval_s = path, current, interval_s
        self.key = key
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
            save(snap, self.path, self.key)
        except OSError as err:
            log.warning("snapshot cache not written to %s: %s", self.path, err)
            return
        self.saved_change_no = snap.change_no

    def _run(self) -> None:
        self.save_now()
        while not self._stop.wait(self.interval_s):
            self.save_now()
