"""Events to plant systems: the controller's journal published to an MQTT broker.

Every decision, passage, alert (a gate's I/O fault and its recovery) and emergency (R16)
goes out as JSON on ``PREFIX/<zone>/<gate>/<kind>`` with QoS 1. The journal is the
buffer: the ``mqtt_published`` cursor moves only over entries the broker acknowledged
(PUBACK), in journal order, so while the broker is away nothing is lost, and when it comes
back everything is sent again from the cursor, in order. QoS 1 is "at least once": a
message in flight when the connection broke is sent again; consumers drop repeats by
``key`` (or ``seq`` per controller).

Payloads are built from an allowlist of journal fields. The journal carries no identity
or phone numbers (R20): ``payload`` refuses an event that would (a programming error, not
a runtime condition). The publisher runs in a thread of its own with its own connection;
the decision path never waits on it.
"""

from __future__ import annotations

import json
import logging
import queue
import ssl
import threading
from collections import deque
from typing import Any

import paho.mqtt.client as mqtt

from controller.journal import Entry, Journal
from zones.config import MqttSection

log = logging.getLogger(__name__)

# journal kind -> topic kind; reads are not published (a decision follows each one)
KINDS = {"decision": "decision", "passage": "passage", "fault": "alert", "emergency": "emergency"}
_FIELDS = ("at", "controller", "zone", "gate", "direction", "card", "person_id", "escort_id", "allowed", "passed")
_PERSONAL = ("id_number", "phone")


def topic(prefix: str, entry: Entry) -> str:
    e = entry.event
    return f"{prefix}/{e.get('zone') or '-'}/{e.get('gate') or '-'}/{KINDS[e['kind']]}"


def payload(entry: Entry) -> dict[str, Any]:
    """The JSON body of a published event (README: Events to MQTT)."""
    e = entry.event
    assert not any(k in e or k in (e.get("detail") or {}) for k in _PERSONAL), "R20: personal data in a journal event"
    body: dict[str, Any] = {"seq": entry.seq, "key": entry.key, "kind": KINDS[e["kind"]]}
    body.update({f: e[f] for f in _FIELDS if e.get(f) is not None})
    if "reasons" in e:
        body["reasons"] = [{"rule": r["rule"], "code": r["code"], "message": r["message"]} for r in e["reasons"]]
    if e.get("detail"):
        body["detail"] = e["detail"]
    return body


class MqttPublisher:
    """Publishes ``journal`` to the broker of ``section``; ``connected`` and ``backlog``
    feed the metrics."""

    BATCH = 200
    MAX_IN_FLIGHT = 100
    IDLE_S = 0.05  # how often an idle publisher looks for new journal entries
    CONNECT_TIMEOUT_S = 5.0
    BACKOFF_START_S = 0.5
    BACKOFF_MAX_S = 15.0

    def __init__(self, section: MqttSection, journal: Journal, client_id: str):
        self.section, self.journal, self.client_id = section, journal, client_id
        self.connected = False
        self.published_total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="controller-mqtt", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def backlog(self) -> int:
        """Journal entries after the acknowledged cursor (reads included)."""
        return max(0, self.journal.last_seq - self.journal.mqtt_mark())

    # -- the publisher thread --------------------------------------------------------
    def _run(self) -> None:
        pause = self.BACKOFF_START_S
        while not self._stop.is_set():
            session = _Session(self)
            try:
                if session.connect():
                    pause = self.BACKOFF_START_S
                    session.pump()
            except (OSError, ssl.SSLError) as err:
                log.debug("mqtt broker %s unreachable: %s", self.section.url, err)
            finally:
                session.close()
            if self.connected:
                log.warning("mqtt broker %s lost; events held in the journal", self.section.url)
            self.connected = False
            self._stop.wait(pause)
            pause = min(pause * 2, self.BACKOFF_MAX_S)


class _Session:
    """One connection to the broker: a fresh client, so nothing of a broken connection is
    sent again out of order; unacknowledged entries are sent again from the cursor."""

    def __init__(self, pub: MqttPublisher):
        self.pub = pub
        self.acks: queue.SimpleQueue[int] = queue.SimpleQueue()  # mids, from paho's thread
        self.up, self.down = threading.Event(), threading.Event()
        s = pub.section
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=s.client_id or pub.client_id,
            clean_session=True,
            reconnect_on_failure=False,
        )
        if s.tls:
            self.client.tls_set(ca_certs=s.ca_file)
        if s.username is not None:
            self.client.username_pw_set(s.username, s.password)
        self.client.max_inflight_messages_set(pub.MAX_IN_FLIGHT)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.down.set()
        # No lock here: paho calls this holding its own message lock, which publish() takes.
        self.client.on_publish = lambda _c, _u, mid, _rc, _p: self.acks.put(mid)

    def _on_connect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt broker %s refused the connection: %s", self.pub.section.url, reason)
            self.down.set()
        else:
            self.up.set()

    def connect(self) -> bool:
        host, port = self.pub.section.address()
        self.client.connect(host, port, keepalive=10)
        self.client.loop_start()
        if not self.up.wait(self.pub.CONNECT_TIMEOUT_S) or self.down.is_set():
            return False
        self.pub.connected = True
        log.info("mqtt broker %s connected", self.pub.section.url)
        return True

    def pump(self) -> None:
        """Publish from the cursor on; advance it over acknowledged entries, in order."""
        pub, journal, prefix = self.pub, self.pub.journal, self.pub.section.topic_prefix
        mark = sent = journal.mqtt_mark()
        pending: deque[int] = deque()  # seqs sent or skipped, oldest first
        done: set[int] = set()
        seq_of: dict[int, int] = {}  # mid -> seq
        while not pub._stop.is_set() and not self.down.is_set():
            while True:
                try:
                    done.add(seq_of.pop(self.acks.get_nowait()))
                except queue.Empty:
                    break
            advanced = mark
            while pending and pending[0] in done:
                advanced = pending.popleft()
                done.discard(advanced)
            if advanced != mark:
                journal.mark_mqtt_published(advanced)
                mark = advanced
            room = pub.MAX_IN_FLIGHT - len(seq_of)
            batch = journal.after(sent, min(room, pub.BATCH)) if room > 0 and journal.last_seq > sent else []
            for entry in batch:
                pending.append(entry.seq)
                sent = entry.seq
                if entry.event.get("kind") not in KINDS:
                    done.add(entry.seq)
                    continue
                info = self.client.publish(topic(prefix, entry), json.dumps(payload(entry)), qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    return  # the connection is gone: the next session sends it again
                seq_of[info.mid] = entry.seq
                pub.published_total += 1
            if not batch:
                self.down.wait(pub.IDLE_S)

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
