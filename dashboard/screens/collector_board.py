"""The collector supervision board (docs/supervision.md "The collector board"): per team, how
many collectors are on duty now, their 在岗率, grid coverage and distance today, and their
supervision alarms today. On the wall's rotating panel (teams only: a screen in a hall shows no
person) and on the desk (each collector, for the roles that may see them).

Pure: the collectors' hot docs, their day figures (dashboard/store/watch_state.py), the alarm
counts (dashboard/store/alarm_counts.py), the rotas and areas (dashboard/supervision_config.py)
and the names come in; ``now`` is a parameter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from dashboard.access.masking import Masking
from dashboard.casework.collector_duty import DayFigures, DutyFigures, by_team, figures
from dashboard.casework.rates import percent
from dashboard.casework.supervision import RULE_TYPES, RULES
from dashboard.screens.names import Names
from dashboard.supervision_config import Supervision

NO_TEAM = ""


def on_duty_now(doc: Mapping[str, Any], last_fix: float, now: float, sup: Supervision, offline_after_s: float) -> bool:
    """Heard from within the offline window, not signed off, and in its rota's hours."""
    cid = str(doc.get("id") or doc.get("device_id") or "")
    return now - last_fix <= offline_after_s and sup.on_duty(cid, now, doc.get("status"))


def rows(collectors: Sequence[tuple[str, Mapping[str, Any], float]], day: date, today: Mapping[str, DayFigures],
         period: tuple[float, float], now: float, sup: Supervision, timezone: str,
         offline_after_s: float) -> tuple[dict[str, DutyFigures], dict[str, str], dict[str, bool]]:
    """Each collector's figures today, its team and whether it is on duty now. ``collectors``:
    (id, hot doc, last fix time)."""
    ids = [cid for cid, _doc, _t in collectors]
    per = figures(ids, {day: today}, period, now, sup.rota_of, sup.areas, timezone)
    team = {cid: str(doc.get("department") or NO_TEAM) for cid, doc, _t in collectors}
    on = {cid: on_duty_now({"id": cid, **doc}, t, now, sup, offline_after_s) for cid, doc, t in collectors}
    return per, team, on


def team_board(collectors: Sequence[tuple[str, Mapping[str, Any], float]], day: date,
               today: Mapping[str, DayFigures], team_alarms: Counter[str], period: tuple[float, float], now: float,
               sup: Supervision, names: Names, timezone: str, offline_after_s: float) -> dict[str, Any]:
    """The wall's view: one row per team (department), worst 在岗率 first, and the total.
    ``team_alarms``: department -> the collectors' supervision alarms today."""
    per, team, on = rows(collectors, day, today, period, now, sup, timezone, offline_after_s)
    teams = by_team(per, team)
    members: Counter[str] = Counter(team.values())
    on_now: Counter[str] = Counter(team[c] for c, yes in on.items() if yes)

    def row(code: str, f: DutyFigures, n: int, on_duty: int, alarm_n: int) -> dict[str, Any]:
        zh, en = names.department(code) if code else ("—", "—")
        return {"code": code, "zh": zh, "en": en, "members": n, "on_duty": on_duty, "rate": percent(f.on_duty_rate),
                "coverage": percent(f.coverage), "km": f"{f.km:.1f}", "alarms": alarm_n,
                "low": f.on_duty_rate is not None and f.on_duty_rate < LOW_RATE}

    out = [row(code, f, members[code], on_now[code], team_alarms[code]) for code, f in teams.items()]
    out.sort(key=lambda r: (_rate_key(teams[r["code"]]), r["code"]))
    total = sum(teams.values(), DutyFigures())
    return {"ready": True, "rows": out,
            "total": row(NO_TEAM, total, len(collectors), sum(on_now.values()),
                         sum(n for code, n in team_alarms.items() if code in teams))}


LOW_RATE = 0.8  # a team under this 在岗率 is marked on the wall [D]


def desk_board(collectors: Sequence[tuple[str, Mapping[str, Any], float]], day: date,
               today: Mapping[str, DayFigures], alarms: Counter[str], counters: Mapping[str, Any],
               period: tuple[float, float], now: float, sup: Supervision, names: Names, masking: Masking,
               timezone: str, offline_after_s: float) -> dict[str, Any]:
    """The desk's view: each team (as the wall's) with its collectors, lowest 在岗率 first: on
    duty now, 在岗率, coverage and km today, their alarms today, and today's reports, 核实 and
    核查 on time (the collectors' evaluation counters, ``counters``: id -> Counters). Names and
    ids through ``masking`` (a masked role sees aliases)."""
    per, team, on = rows(collectors, day, today, period, now, sup, timezone, offline_after_s)
    docs = {cid: doc for cid, doc, _t in collectors}
    teams: dict[str, list[dict[str, Any]]] = {}
    for cid, f in per.items():
        c = counters.get(cid)
        shown = masking.device({"id": cid, "name": docs[cid].get("name")})
        teams.setdefault(team[cid], []).append({
            "id": shown["id"], "name": shown.get("name") or "", "on_duty": on[cid],
            "rate": percent(f.on_duty_rate), "coverage": percent(f.coverage), "km": f"{f.km:.1f}",
            "alarms": alarms.get(cid, 0), "low": f.on_duty_rate is not None and f.on_duty_rate < LOW_RATE,
            "reports": c.supervisor_reports if c else 0,
            "verify": f"{c.verify_on_time}/{c.verify_due}" if c else "0/0",
            "check": f"{c.check_on_time}/{c.check_due}" if c else "0/0",
            "_rate": 2.0 if f.on_duty_rate is None else f.on_duty_rate,
        })
    team_figures = by_team(per, team)
    out = []
    for code, members in teams.items():
        members.sort(key=lambda r: (r["_rate"], r["id"]))
        for r in members:
            del r["_rate"]
        zh, en = names.department(code) if code else ("—", "—")
        f = team_figures[code]
        out.append({"code": code, "zh": zh, "en": en, "rate": percent(f.on_duty_rate), "coverage": percent(f.coverage),
                    "km": f"{f.km:.1f}", "on_duty": sum(1 for r in members if r["on_duty"]), "members": members,
                    "_rate": _rate_key(f)})
    out.sort(key=lambda t: (t["_rate"], t["code"]))
    for t in out:
        del t["_rate"]
    return {"day": day.isoformat(), "now": now, "teams": out, "collectors": len(per)}


def _rate_key(f: DutyFigures) -> float:
    rate = f.on_duty_rate
    return 2.0 if rate is None else rate  # the lowest rate first; teams not scheduled last


def alarm_summary(counts: Mapping[tuple[Any, str, str, str], int], names: Names) -> dict[str, Any]:
    """Today's supervision alarms per rule and device type (the counts of
    dashboard/store/alarm_counts.py), for the desk: rows are rules, columns device types."""
    types = sorted({t for (_d, _r, t, _dep) in counts}, key=lambda t: (t == "collector", t))
    per: Counter[tuple[str, str]] = Counter()
    for (_day, rule, device_type, _dep), n in counts.items():
        per[(rule, device_type)] += n
    rules = [r for r in RULES if any(per[(r, t)] for t in types)]
    return {"types": types,
            "rows": [{"rule": r, "zh": RULE_TYPES[r], "en": names.alert_type(RULE_TYPES[r])[1],
                      "counts": [per[(r, t)] for t in types], "total": sum(per[(r, t)] for t in types)} for r in rules],
            "total": sum(per.values())}
