"""Rule messages a guard can read aloud, in English and Simplified Chinese, and the names
of the rules and of each reason, shown beside their codes ("R3 Badge reported lost").

The engine builds every ``Reason`` through ``reason()`` so the English message and the
parameters needed to say it in another language always travel together. A reason names its
zone by English name (``zone``) and id (``zone_id``) and its department by id; ``render``
says them with the site's names in the reader's language (``zones.names``).
"""

from __future__ import annotations

from zones.facts import Reason
from zones.names import SiteNames

# rule id -> (English name, Chinese name), as shared/rules.md titles them; F1 and E1 are the
# gate's own (an I/O fault, an employee's zone access)
RULE_NAMES: dict[str, tuple[str, str]] = {
    "R1": ("Appointment", "预约"),
    "R2": ("Identity", "身份核验"),
    "R3": ("Badge", "访客证"),
    "R4": ("Sign-out", "离厂登记"),
    "R5": ("Contact form", "进入联系单"),
    "R6": ("Safety education", "安全教育"),
    "R7": ("Notification card", "安全告知卡"),
    "R8": ("Education card", "安全教育卡"),
    "R9": ("Risk level", "风险等级"),
    "R10": ("Escort", "陪同"),
    "R11": ("No minors", "未成年人禁入"),
    "R12": ("Helmet", "安全帽"),
    "R13": ("Prohibitions", "禁止事项"),
    "R14": ("Hours", "开放时间"),
    "R15": ("Capacity and passback", "容量与防回传"),
    "R16": ("Emergency", "紧急状态"),
    "R17": ("Breaches", "违规处理"),
    "R18": ("Audit", "审计记录"),
    "R19": ("Statistics", "统计"),
    "R20": ("Privacy", "隐私保护"),
    "R21": ("Unscheduled arrivals", "临时来访"),
    "R22": ("Complaints and suggestions", "投诉与建议"),
    "R23": ("Follow-up", "回访"),
    "F1": ("Gate fault", "闸机故障"),
    "E1": ("Employee access", "员工通行权限"),
}

# code -> (rule id, English template, Chinese template)
MESSAGES: dict[str, tuple[str, str, str]] = {
    "no-visit": (
        "R1",
        "no appointment or open visit for this visitor; book the visit or ask a safety officer for a walk-in exception",
        "该访客没有预约或未结束的来访；请预约，或请安全员批准临时来访",
    ),
    "walk-in-not-approved": (
        "R1",
        "visit was not booked ahead and no safety officer approved a walk-in exception",
        "来访未提前预约，且没有安全员批准的临时来访",
    ),
    "not-checked-in": (
        "R2",
        "visitor has not checked in at reception (identity not verified)",
        "访客尚未在接待处登记（身份未核验）",
    ),
    "unknown-card": (
        "R3",
        "card {card} is not an active badge; send the holder to reception",
        "卡 {card} 不是有效的访客证；请持卡人到接待处",
    ),
    "badge-lost": (
        "R3",
        "card {card} was reported lost; keep the card and call security",
        "卡 {card} 已挂失；请收回该卡并通知保卫部门",
    ),
    "badge-returned": ("R3", "card {card} was returned and is no longer valid", "卡 {card} 已归还，不再有效"),
    "no-form": (
        "R5",
        "no approved entry contact form valid now for {zone}; the {department} department head or safety officer must issue one",
        "当前没有有效且已批准的{zone}进入联系单；需由{department}负责人或安全员开具",
    ),
    "no-education": (
        "R8",
        "no safety education by {department} on record; education by the {department} safety officer is required",
        "没有{department}的安全教育记录；需由{department}安全员进行安全教育",
    ),
    "education-expired": (
        "R8",
        "education card expired (valid through {date}); re-education by the {department} safety officer is required",
        "安全教育卡已过期（有效期至{date}）；需由{department}安全员重新教育",
    ),
    "no-notification-card": (
        "R7",
        "no signed safety notification card; the visitor must sign it after education",
        "没有签署的安全告知卡；访客须在安全教育后签署",
    ),
    "notification-card-zone": (
        "R9",
        "{zone} is high-risk: the signed notification card must name {zone}",
        "{zone}为高风险区域：签署的安全告知卡须写明{zone}",
    ),
    "no-escort": (
        "R10",
        "no escort card presented; the escort of record ({escorts}) must present their card",
        "没有陪同人刷卡；联系单上的陪同人（{escorts}）必须刷自己的卡",
    ),
    # the same after the gate held the visitor's card for the whole window (R10)
    "no-escort-waited": (
        "R10",
        "no escort card presented within {window} s; the escort of record ({escorts}) must present their card",
        "{window} 秒内没有陪同人刷卡；联系单上的陪同人（{escorts}）必须刷自己的卡",
    ),
    "escort-not-of-record": (
        "R10",
        "{escort} is not an escort of record on the contact form; the form names {escorts}",
        "{escort}不是联系单上的陪同人；联系单上的陪同人为{escorts}",
    ),
    "escort-banned": ("R17", "{escort} is banned and may not escort", "{escort}已被禁止入厂，不能陪同"),
    "escort-not-employee": ("R10", "{escort} is not an employee and cannot escort", "{escort}不是本厂员工，不能陪同"),
    "escort-not-authorised": ("R10", "{escort} is not authorised to escort in {zone}", "{escort}没有{zone}的陪同资格"),
    "escort-off-duty": ("R10", "{escort} is not on duty", "{escort}不在岗"),
    "escort-at-limit": (
        "R10",
        "{escort} already has {count} visitors in charge (limit {limit})",
        "{escort}已陪同 {count} 名访客（上限 {limit} 名）",
    ),
    "escort-card-inactive": ("R10", "escort card of {escort} is not active", "陪同人{escort}的卡无效"),
    "under-age": (
        "R11",
        "visitor is {age}, under the minimum age of {min_age}; minors may not enter production zones",
        "访客 {age} 岁，未满 {min_age} 岁；未成年人不得进入生产区域",
    ),
    "no-birth-date": (
        "R11",
        "birth date unknown; reception must record it before entry",
        "出生日期未知；须由接待处登记后方可进入",
    ),
    "no-helmet": (
        "R12",
        "{zone} requires a safety helmet and none is issued; issue one at the safety office",
        "{zone}要求佩戴安全帽，但未发放；请到安全办公室领取",
    ),
    "outside-hours": (
        "R14",
        "{zone} is open {hours} only and the contact form does not allow entry outside them",
        "{zone}开放时间为 {hours}，联系单未允许非开放时间进入",
    ),
    "night-escort": (
        "R14",
        "night visit ({night}): the escort must be from the dispatch room",
        "夜间来访（{night}）：陪同人须为调度室人员",
    ),
    "zone-full": ("R15", "{zone} is at its maximum occupancy of {limit}", "{zone}已达最大容纳人数 {limit}"),
    "passback": (
        "R15",
        "already recorded inside {zone}; exit first or ask a safety officer to reset anti-passback",
        "已登记在{zone}内；请先出场，或由安全员重置防回传",
    ),
    "emergency": ("R16", "emergency in progress: entries are locked", "紧急状态：所有入口已锁闭"),
    "banned": ("R17", "banned from the site until {date} after a breach", "因违规被禁止入厂至 {date}"),
    "incident-open": (
        "R21",
        "recorded in an open reception incident (category A or B): no entry to production zones until it is closed",
        "在接待处未结案的事件（A 类或 B 类）中有登记：结案前不得进入生产区域",
    ),
    "gate-fault": (
        "F1",
        "turnstile I/O module unreachable: entry stays locked; call maintenance",
        "闸机 I/O 模块无法连接：入口保持锁闭；请通知维修",
    ),
    "employee-not-authorised": ("E1", "employee is not authorised to enter {zone}", "该员工没有进入{zone}的权限"),
}


# reason code -> (English title, Chinese title): what a badge says beside the rule id
TITLES: dict[str, tuple[str, str]] = {
    "no-visit": ("No appointment", "没有预约"),
    "walk-in-not-approved": ("Walk-in not approved", "临时来访未批准"),
    "not-checked-in": ("Not checked in", "未登记"),
    "unknown-card": ("Unknown card", "无效卡"),
    "badge-lost": ("Badge reported lost", "访客证已挂失"),
    "badge-returned": ("Badge returned", "访客证已归还"),
    "no-form": ("No contact form", "没有进入联系单"),
    "no-education": ("No safety education", "没有安全教育"),
    "education-expired": ("Education card expired", "安全教育卡已过期"),
    "no-notification-card": ("Notification card not signed", "安全告知卡未签署"),
    "notification-card-zone": ("Card does not name the zone", "告知卡未写明该区域"),
    "no-escort": ("No escort", "没有陪同人"),
    "no-escort-waited": ("No escort in time", "陪同人未按时刷卡"),
    "escort-not-of-record": ("Escort not on the form", "陪同人不在联系单上"),
    "escort-banned": ("Escort banned", "陪同人被禁止入厂"),
    "escort-not-employee": ("Escort not an employee", "陪同人不是员工"),
    "escort-not-authorised": ("Escort not authorised", "陪同人无陪同资格"),
    "escort-off-duty": ("Escort off duty", "陪同人不在岗"),
    "escort-at-limit": ("Escort at the limit", "陪同人数已满"),
    "escort-card-inactive": ("Escort card inactive", "陪同人卡无效"),
    "under-age": ("Under age", "未满年龄"),
    "no-birth-date": ("Birth date unknown", "出生日期未知"),
    "no-helmet": ("No helmet", "未领安全帽"),
    "outside-hours": ("Outside the zone's hours", "非开放时间"),
    "night-escort": ("Night escort", "夜间陪同"),
    "zone-full": ("Zone full", "区域已满"),
    "passback": ("Passback", "防回传"),
    "emergency": ("Emergency", "紧急状态"),
    "banned": ("Banned", "禁止入厂"),
    "incident-open": ("Open incident", "未结案事件"),
    "gate-fault": ("Gate fault", "闸机故障"),
    "employee-not-authorised": ("Employee not authorised", "员工无权限"),
}


def rule_name(rule: str, lang: str) -> str:
    """The rule's name in ``lang`` ("R3" -> "Badge" / "访客证"); "" for an unknown id."""
    names = RULE_NAMES.get(rule)
    return (names[1] if lang == "zh" else names[0]) if names else ""


def reason_title(code: str, rule: str, lang: str) -> str:
    """What a badge says beside the rule id: the reason's title ("Badge reported lost"),
    else the rule's name (reasons of an older version, or without a code)."""
    titles = TITLES.get(code)
    if titles:
        return titles[1] if lang == "zh" else titles[0]
    return rule_name(rule, lang)


def reason(code: str, **params: object) -> Reason:
    """Build the Reason for ``code`` with its English message."""
    rule, en, _zh = MESSAGES[code]
    str_params = tuple((k, str(v)) for k, v in params.items())
    return Reason(rule=rule, code=code, message=en.format(**dict(str_params)), params=str_params)


def render(r: Reason, lang: str, names: SiteNames | None = None) -> str:
    """The reason in ``lang`` ("en" or "zh"); unknown codes fall back to the stored message.
    With ``names``, zones and departments are said by their names in ``lang`` (the stored
    English message names the zone in English and the department by its id)."""
    entry = MESSAGES.get(r.code)
    if entry is None or (lang != "zh" and names is None):
        return r.message
    params = dict(r.params)
    if names is not None:
        params = _named(params, lang, names)
    return (entry[2] if lang == "zh" else entry[1]).format(**params)


def _named(params: dict[str, str], lang: str, names: SiteNames) -> dict[str, str]:
    out = dict(params)
    zone_id = params.get("zone_id") or (names.zone_called(params["zone"]) if "zone" in params else None)
    if zone_id and zone_id in names.zones:
        out["zone"] = names.zone(zone_id, lang)
    if "department" in params:
        out["department"] = names.department(params["department"], lang)
    return out
