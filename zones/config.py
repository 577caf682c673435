"""config.toml as pydantic models, and the one function that reads it.

Every mistake is reported with the file and the key path a person would look for
(``config.toml: gates[1].zone: unknown zone "smeltng"``), never as a traceback.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from zones.facts import Policy, TimeWindow, Zone
from zones.languages import LANGUAGES, normalise_language
from zones.names import Name, SiteNames
from zones.workdays import WorkCalendar

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def parse_window(text: str) -> TimeWindow:
    """Parse ``HH:MM-HH:MM``; raises ValueError with the expected shape."""
    m = _WINDOW.match(text.strip())
    if not m:
        raise ValueError(f"expected HH:MM-HH:MM, got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if (h1, m1) == (h2, m2):
        raise ValueError(f"window {text!r} is empty (start equals end)")
    return TimeWindow(time(h1, m1), time(h2, m2))


class ConfigError(Exception):
    """config.toml is missing, unreadable or invalid. ``errors`` holds one line per problem,
    each starting with the file name and the key path."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSection(_Strict):
    name: str = "SiteGate site"
    name_zh: str | None = None  # the site's name on Chinese pages (default: ``name``)
    timezone: str = "Asia/Shanghai"
    database: str = "sqlite:///var/sitegate.db"
    language: str = "en"  # en or zh; zh-CN, zh_CN and zh-Hans mean zh
    secret_key_file: str = "var/secret_key"  # generated on first run when missing
    journal_retention_days: int = Field(90, ge=1)  # controller journals keep shipped rows this long
    closes: str | None = None  # "HH:MM": when the site closes (R4 overdue visits)
    # R6: the safety & environment department's verbal briefing counts for every zone; the
    # dispatch room educates and escorts at night (R6, R14). Department ids, as zones name them.
    safety_department: str = "safety"
    dispatch_department: str = "dispatch"
    # PostgreSQL: controllers LISTEN for changes and refresh at once; off, they poll only
    notify: bool = True

    @field_validator("closes")
    @classmethod
    def _closing_time(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError(f"expected HH:MM, got {v!r}")
        return v

    @field_validator("language")
    @classmethod
    def _known_language(cls, v: str) -> str:
        lang = normalise_language(v)
        if lang is None:
            raise ValueError(f"expected one of {', '.join(LANGUAGES)} (or zh-CN, zh_CN, zh-Hans), got {v!r}")
        return lang

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown timezone {v!r}") from err
        return v

    @field_validator("database")
    @classmethod
    def _supported_database(cls, v: str) -> str:
        if not (v.startswith("sqlite:///") or v.startswith("postgresql+psycopg://")):
            raise ValueError("expected sqlite:///PATH or postgresql+psycopg://user@host/db")
        return v


class RulesSection(_Strict):
    education_valid_months: int = Field(3, ge=1, le=36)
    notification_retention_months: int = Field(6, ge=1, le=120)
    escort_window_s: float = Field(10, gt=0, le=120)
    escort_max_visitors: int = Field(5, ge=1, le=100)
    min_age: int = Field(18, ge=0, le=100)
    night: str = "20:00-07:00"
    overdue_after_close_h: float = Field(2, gt=0)  # R4
    overdue_after_arrival_h: float = Field(12, gt=0)  # R4
    stale_read_s: float = Field(3, gt=0, le=60)  # card reads older than this are ignored
    repeat_read_s: float = Field(1, ge=0, le=30)  # a card held to the reader repeats: one read
    education_record_delay_days: int = Field(7, ge=0, le=366)  # R6: recorded within N days

    @field_validator("night")
    @classmethod
    def _night_window(cls, v: str) -> str:
        parse_window(v)
        return v


class ZoneSection(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]
    name: str
    name_zh: str | None = None  # the zone's name on Chinese pages and in Chinese reasons
    department: str
    risk: Literal["general", "high-risk"] = "general"
    helmet: bool = False
    max_occupancy: int | None = Field(None, ge=1)
    hours: str | None = None

    @field_validator("hours")
    @classmethod
    def _hours_window(cls, v: str | None) -> str | None:
        if v is not None:
            parse_window(v)
        return v

    def to_zone(self) -> Zone:
        return Zone(
            id=self.id,
            name=self.name,
            department=self.department,
            risk=self.risk,
            helmet=self.helmet,
            max_occupancy=self.max_occupancy,
            hours=parse_window(self.hours) if self.hours else None,
        )


class DepartmentSection(_Strict):
    """A department's names (``[[departments]]``, optional): pages and reasons show these
    instead of the id zones and ``[reception] routing`` use."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]
    name: str
    name_zh: str | None = None


_MODBUS = re.compile(r"^(sim|tcp://[^:/]+:\d+|rtu://[^?]+(\?.*)?)$")


class ReaderSection(_Strict):
    protocol: Literal["em4100", "line", "osdp"]
    port: str
    baud: int = Field(9600, gt=0)
    address: int = Field(0, ge=0, le=126)  # osdp
    scbk: str | None = None  # osdp secure channel base key, 32 hex digits
    install_mode: bool = False  # osdp: let a new reader take our key once

    @field_validator("scbk")
    @classmethod
    def _scbk_hex(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[0-9A-Fa-f]{32}", v):
            raise ValueError("expected 32 hex digits")
        return v


def _check_modbus(v: str) -> str:
    if not _MODBUS.match(v):
        raise ValueError('expected "sim", "tcp://HOST:PORT" or "rtu:///dev/ttyX?baud=9600"')
    return v


class TurnstileSection(_Strict):
    modbus: str
    unit: int = Field(1, ge=0, le=247)
    release_coil: int = Field(0, ge=0, le=65535)
    passage_input: int = Field(0, ge=0, le=65535)
    pulse_ms: int = Field(500, ge=50, le=10000)
    pass_timeout_s: float = Field(8, gt=0, le=120)

    _modbus = field_validator("modbus")(classmethod(lambda cls, v: _check_modbus(v)))


class GateSection(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]
    zone: str
    direction: Literal["in", "out"]
    reader: ReaderSection
    turnstile: TurnstileSection


class AlarmSection(_Strict):
    modbus: str
    unit: int = Field(1, ge=0, le=247)
    input: int = Field(..., ge=0, le=65535)

    _modbus = field_validator("modbus")(classmethod(lambda cls, v: _check_modbus(v)))


class RoutingSection(_Strict):
    """R21: the department each category of unscheduled arrival is routed to."""

    A: str = "customer-service"
    B: str = "human-resources"
    C: str = "administration"
    other: str = "administration"


class ReceptionSection(_Strict):
    """The reception's procedures (R21-R23) and the site's working-day calendar."""

    routing: RoutingSection = RoutingSection()
    incident_report_working_days: int = Field(2, ge=0, le=60)  # R21
    complaint_answer_working_days: int = Field(3, ge=0, le=60)  # R22
    follow_up_hours: float = Field(24, gt=0, le=24 * 30)  # R23
    holidays: list[date] = Field(default_factory=list)  # weekdays that are not worked
    workdays: list[date] = Field(default_factory=list)  # adjusted working days (weekends worked)

    @field_validator("workdays")
    @classmethod
    def _no_day_both(cls, v: list[date], info: ValidationInfo) -> list[date]:
        both = sorted(set(v) & set(info.data.get("holidays", [])))
        if both:
            raise ValueError(f"{both[0].isoformat()} is listed both as a holiday and as a working day")
        return v

    def calendar(self) -> WorkCalendar:
        return WorkCalendar(holidays=frozenset(self.holidays), workdays=frozenset(self.workdays))


class WebSection(_Strict):
    """The panel's and API's accounts and the network in front of them (issue 10)."""

    min_password_length: int = Field(12, ge=8, le=128)
    token_days: int = Field(90, ge=1, le=3650)  # new API tokens expire after this many days
    idle_minutes: int = Field(30, ge=1, le=24 * 60)  # a page session unused this long ends
    # reverse proxies in front of the web that append X-Forwarded-For; 0: clients connect directly
    proxies: int = Field(0, ge=0, le=10)


_MQTT_URL = re.compile(r"^mqtts?://[^:/@]+(:\d+)?/?$")


class MqttSection(_Strict):
    """Events to plant systems (controller.mqtt_publisher): the broker and the topics."""

    url: str  # mqtt://host:port or mqtts://host:port (TLS)
    topic_prefix: str = "sitegate"
    client_id: str | None = None  # default: sitegate-<controller id>
    ca_file: str | None = None  # mqtts: the broker's CA (default: the system's)
    username: str | None = None
    password: str | None = None

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, v: str) -> str:
        if not _MQTT_URL.match(v):
            raise ValueError('expected "mqtt://HOST:PORT" or "mqtts://HOST:PORT"')
        return v

    @field_validator("topic_prefix")
    @classmethod
    def _topic_prefix(cls, v: str) -> str:
        if not v or any(c in v for c in "+#\0") or v.startswith("/") or v.endswith("/"):
            raise ValueError("expected a topic prefix without wildcards or leading/trailing '/'")
        return v

    @property
    def tls(self) -> bool:
        return self.url.startswith("mqtts://")

    def address(self) -> tuple[str, int]:
        """Host and port; the port defaults to 1883 (8883 with TLS)."""
        host, _, port = self.url.split("://", 1)[1].rstrip("/").partition(":")
        return host, int(port) if port else (8883 if self.tls else 1883)


class SiteConfig(_Strict):
    site: SiteSection = SiteSection()
    rules: RulesSection = RulesSection()
    zones: list[ZoneSection] = Field(default_factory=list)
    departments: list[DepartmentSection] = Field(default_factory=list)
    gates: list[GateSection] = Field(default_factory=list)
    alarm: AlarmSection | None = None
    reception: ReceptionSection = ReceptionSection()
    web: WebSection = WebSection()
    mqtt: MqttSection | None = None

    # -- views the rest of the system uses --
    def policy(self) -> Policy:
        return Policy(
            timezone=self.site.timezone,
            education_valid_months=self.rules.education_valid_months,
            notification_retention_months=self.rules.notification_retention_months,
            escort_window_s=self.rules.escort_window_s,
            escort_max_visitors=self.rules.escort_max_visitors,
            min_age=self.rules.min_age,
            night=parse_window(self.rules.night),
            safety_department=self.site.safety_department,
            dispatch_department=self.site.dispatch_department,
        )

    def names(self) -> SiteNames:
        """Zone, department and site names per language (``name``, ``name_zh``)."""
        return SiteNames(
            site=Name(self.site.name, self.site.name_zh),
            zones={z.id: Name(z.name, z.name_zh) for z in self.zones},
            departments={d.id: Name(d.name, d.name_zh) for d in self.departments},
        )

    def zone_map(self) -> dict[str, Zone]:
        return {z.id: z.to_zone() for z in self.zones}

    def gate(self, gate_id: str) -> GateSection:
        for g in self.gates:
            if g.id == gate_id:
                return g
        raise KeyError(gate_id)


def _cross_reference_errors(data: dict[str, Any]) -> list[str]:
    """Key paths and messages for references between sections (gate -> zone, unique ids).
    Works on the raw TOML so it reports even when other keys failed validation."""
    errors: list[str] = []
    zones = [z for z in data.get("zones", []) if isinstance(z, dict)]
    gates = [g for g in data.get("gates", []) if isinstance(g, dict)]
    zone_ids = [z.get("id") for z in zones]
    for i, zid in enumerate(zone_ids):
        if zid is not None and zone_ids.index(zid) != i:
            errors.append(f'zones[{i}].id: duplicate zone "{zid}"')
    gate_ids = [g.get("id") for g in gates]
    for i, gate in enumerate(gates):
        if gate.get("id") is not None and gate_ids.index(gate.get("id")) != i:
            errors.append(f'gates[{i}].id: duplicate gate "{gate.get("id")}"')
        if "zone" in gate and gate["zone"] not in zone_ids:
            errors.append(f'gates[{i}].zone: unknown zone "{gate["zone"]}"')
    departments = [d for d in data.get("departments", []) if isinstance(d, dict)]
    department_ids = [d.get("id") for d in departments]
    for i, did in enumerate(department_ids):
        if did is not None and department_ids.index(did) != i:
            errors.append(f'departments[{i}].id: duplicate department "{did}"')
    return errors


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if err.get("type") == "extra_forbidden":
        msg = "unknown key (typo?)"
    return msg


def parse_config(text: str, filename: str = "config.toml") -> SiteConfig:
    """Parse and validate config text. Raises ConfigError listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"{filename}: not valid TOML: {err}"]) from err
    lines = []
    config = None
    try:
        config = SiteConfig.model_validate(data)
    except ValidationError as err:
        lines = [f"{filename}: {_key_path(tuple(e['loc'])) or '(top)'}: {_message(e)}" for e in err.errors()]
    lines += [f"{filename}: {e}" for e in _cross_reference_errors(data)]
    if lines or config is None:
        raise ConfigError(lines)
    return config


def load_config(path: str | Path = "config.toml") -> SiteConfig:
    """Read and validate config.toml. Raises ConfigError naming the file and each key."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"{p}: cannot read: {err.strerror or err}"]) from err
    return parse_config(text, str(p))
