"""The SQL that turns ``case_stat``/``case_step`` rows (dashboard.casework.projection) into
counters with the same definitions as ``Counters.add``: ``counters_sql`` per grouping key, and
``collector_sql`` for the collectors' ranking. dashboard/store/evaluation.py runs them.

Why it is fast (docs/performance.md): ``span_start``/``span_end`` bound every instant at which
a case can count, so a period reads an index range; the first mark of each step is on the case
row itself, so one pass over the period's cases counts nearly everything.
"""

from __future__ import annotations

from dashboard.casework.projection import GROUP_KEYS, STAGES

_IN = "{col} >= :start AND {col} < :cutoff"


def _outcomes(prefix: str, done: str, due: str) -> dict[str, str]:
    """The settle rule of ``counters._outcome`` for one clock, on the precomputed columns
    <prefix>_ok_at (done on time: when) and <prefix>_due_at (not done on time: the deadline)."""
    ok, late_at = f"{prefix}_ok_at", f"{prefix}_due_at"
    paused = f"suspended_since IS NOT NULL AND suspended_since < :cutoff AND suspended_since <= {due}"
    return {
        "on_time": _IN.format(col=ok),
        "late": f"{_IN.format(col=late_at)} AND {done} < :cutoff",
        "pending": f"{_IN.format(col=late_at)} AND ({done} IS NULL OR {done} >= :cutoff) AND NOT ({paused})",
        # on time, late or pending, in fewer steps
        "due": f"{_IN.format(col=ok)} OR ({_IN.format(col=late_at)} AND ({done} < :cutoff OR NOT ({paused})))",
    }


def _count(condition: str) -> str:
    return f"COUNT(*) FILTER (WHERE {condition})"


def _sum(column: str, condition: str) -> str:
    return f"COALESCE(SUM({column}) FILTER (WHERE {condition}), 0)"


def counters_sql(group_by: str, case_table: str = "case_stat", step_table: str = "case_step") -> tuple[str, str]:
    """Two GROUP BY queries whose rows, each through ``Counters.from_row`` and then added,
    equal ``Counters.add`` over the same cases. ``group_by``: one of ``GROUP_KEYS``."""
    if group_by not in GROUP_KEYS:
        raise ValueError(f"cannot group by {group_by!r}: not one of {', '.join(GROUP_KEYS)}")
    disposal = _outcomes("disposal", "feedback_at", "deadline")
    closing = _outcomes("close", "closed_at", "close_deadline")
    columns = {name: _count(condition) for name, condition in case_conditions().items()}
    columns.update({
        "extension_events": _sum("extensions", f"extensions > 0 AND ({disposal['due']})"),
        "rework_events": _sum("reworks", f"reworks > 0 AND ({closing['due']})"),
    })
    # The first mark of each step, inline; a step still waiting past its limit is due as well.
    columns.update(step_columns(STAGES, inline=True))
    for stage in STAGES:
        waiting = f"is_open = 1 AND stage = '{stage}' AND {_IN.format(col='stage_deadline')}"
        columns[f"{stage}_due"] += " + " + _count(waiting)
    case_sql = _select(group_by, columns, case_table, CASE_WINDOW)
    step_sql = _select(group_by, step_columns(("dispatch", "check"), inline=False), step_table, STEP_WINDOW)
    return case_sql, step_sql


def case_conditions() -> dict[str, str]:
    """Each counter that counts cases of ``case_stat`` one row each, as the condition a case
    meets to count in [:start, :cutoff): the COUNTs of ``counters_sql`` and the lists of
    ``cases_sql`` (the cases behind a number) are both made of these, so they cannot differ."""
    disposal = _outcomes("disposal", "feedback_at", "deadline")
    closing = _outcomes("close", "closed_at", "close_deadline")
    reported = _IN.format(col="reported_at")
    filed = _IN.format(col="filed_at")
    return {
        "reported": reported,
        "supervisor_reports": f"{reported} AND source = 'supervisor'",
        "valid_reports": f"{reported} AND source = 'supervisor' AND filed_at < :cutoff",
        "public_reports": f"{reported} AND source = 'public'",
        "filed": filed,
        "filed_on_time": f"{filed} AND filed_on_time = 1",
        "accurate_filed": f"{filed} AND state <> 'void'",
        "public_filed": f"{filed} AND source = 'public'",
        "filed_suspended": f"{filed} AND last_suspended_at < :cutoff",
        "voided": _IN.format(col="voided_at"),
        "not_filed": _IN.format(col="not_filed_at"),
        "self_disposed": f"self_disposed = 1 AND {_IN.format(col='closed_at')}",
        "suspended": _IN.format(col="last_suspended_at"),
        "disposed_on_time": disposal["on_time"],
        "disposed_late": disposal["late"],
        "overdue_pending": disposal["pending"],
        "extended": f"extensions > 0 AND ({disposal['due']})",
        "closed_on_time": closing["on_time"],
        "closed_late": closing["late"],
        "overdue_unclosed": closing["pending"],
        "reworked": f"reworks > 0 AND ({closing['due']})",
    }


def cases_sql(counters: tuple[str, ...], group_by: str | None, columns: tuple[str, ...],
              case_table: str = "case_stat") -> str:
    """The cases that count in any of ``counters`` (names of ``case_conditions``) in [:start,
    :cutoff), of one object (``group_by`` = :code) or of the city (None), with ``columns`` and,
    for each counter, a 0/1 column named after it: the list behind a number."""
    conditions = case_conditions()
    unknown = [c for c in counters if c not in conditions]
    if unknown or not counters:
        raise ValueError(f"no case list for {unknown or 'no counter'}: one of {', '.join(conditions)}")
    if group_by is not None and group_by not in GROUP_KEYS:
        raise ValueError(f"cannot group by {group_by!r}: not one of {', '.join(GROUP_KEYS)}")
    flags = ", ".join(f"CASE WHEN {conditions[c]} THEN 1 ELSE 0 END AS {c}" for c in counters)
    anyof = " OR ".join(f"({conditions[c]})" for c in counters)
    where = f"{CASE_WINDOW} AND ({anyof})" + (f" AND {group_by} = :code" if group_by else "")
    return f"SELECT {', '.join(columns)}, {flags}\nFROM {case_table}\nWHERE {where}"


# The index-friendly necessary conditions: a case (step) counts in [start, cutoff) only if its
# span (done .. settled) overlaps it.
CASE_WINDOW = "span_end >= :start AND span_start < :cutoff"
STEP_WINDOW = "at >= :start AND settles_at < :cutoff"


def step_columns(stages: tuple[str, ...], inline: bool) -> dict[str, str]:
    """The step counters of ``Counters.add_step``: over the inline first marks of the case row
    (<stage>_at, <stage>_settles, <stage>_on_time, dispatch_returned) or over ``case_step``
    rows (one stage per row: stage, at, settles_at, on_time, returned)."""

    def col(stage: str, part: str) -> str:
        return f"{stage}_{'settles' if part == 'settles_at' else part}" if inline else part

    def only(stage: str) -> str:
        return "" if inline else f"stage = '{stage}' AND "

    out: dict[str, str] = {}
    for stage in stages:
        done = _IN.format(col=col(stage, "at"))
        settled = _IN.format(col=col(stage, "settles_at"))
        if stage == "accept":
            out["accepted"] = _count(f"{only(stage)}{done}")
        if stage == "dispatch":
            out["dispatched"] = _count(f"{only(stage)}{done}")
            out["returned"] = _count(f"{only(stage)}{done} AND {col(stage, 'returned')} = 1")
        out[f"{stage}_due"] = _count(f"{only(stage)}{settled}")
        out[f"{stage}_on_time"] = _count(f"{only(stage)}{settled} AND {col(stage, 'on_time')} = 1")
    return out


def _filing_columns() -> dict[str, str]:
    conditions = case_conditions()
    return {name: _count(conditions[name])
            for name in ("filed", "filed_on_time", "accurate_filed", "public_filed", "filed_suspended")}


def collector_sql(case_table: str = "case_stat", step_table: str = "case_step") -> list[tuple[str, str]]:
    """The queries of ``evaluation.by_collector`` as (sql, key column): intake by reporter,
    核实/核查 by their actor (inline first marks and further marks), and 立案 by grid. The grid
    rows go to every collector of the grid (漏报率).

    Each case_stat query reads the range of one instant (report, 核实/核查 settled, filing)
    and no column but those of its role's index (models.CaseStatRow, migration 0010), so the
    database reads that index alone, not the period's rows. The case window (``CASE_WINDOW``)
    is left out: the span holds each of these instants (projection.span), so it drops no row
    that the range keeps."""
    reported = _IN.format(col="reported_at")
    intake = {
        "reported": _count(reported),
        "supervisor_reports": _count(reported),
        "valid_reports": _count(f"{reported} AND filed_at < :cutoff"),
    }
    intake_where = f"source = 'supervisor' AND {reported}"
    queries = [(_select("reporter", _within(reported, intake), case_table, intake_where), "reporter")]
    for stage in ("verify", "check"):
        actor, settled = f"{stage}_actor", _IN.format(col=f"{stage}_settles")
        # the inline first mark of 核实/核查 counts only once settled (step_columns)
        queries.append((_select(actor, _within(settled, step_columns((stage,), inline=True)), case_table, settled),
                        actor))
    queries.append((_select("actor", step_columns(("check",), inline=False), step_table,
                            f"stage = 'check' AND {STEP_WINDOW}"), "actor"))
    filed = _IN.format(col="filed_at")
    queries.append((_select("grid_code", _within(filed, _filing_columns()), case_table, filed), "grid_code"))
    return queries


def _within(where: str, columns: dict[str, str]) -> dict[str, str]:
    """``columns`` for a query whose WHERE holds ``where``: their FILTERs leave it out, as it
    holds on every row they see. SQLite evaluates every FILTER on every row; the repeated
    range was a quarter of the collector queries' time (a million cases: 58 → 46 ms by grid)."""
    return {name: expression.replace(f" FILTER (WHERE {where})", "").replace(f"(WHERE {where} AND ", "(WHERE ")
            for name, expression in columns.items()}


def _select(key: str, columns: dict[str, str], source: str, window: str) -> str:
    body = ",\n  ".join(f"{expression} AS {name}" for name, expression in columns.items())
    return f"SELECT {key},\n  {body}\nFROM {source}\nWHERE {window} AND {key} IS NOT NULL\nGROUP BY {key}"
