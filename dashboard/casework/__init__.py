"""The case domain, pure: lifecycle, working calendar, time limits, lights, evaluation, codes.

No I/O here: no files, no network, no clock (``now`` is always a parameter). Data files are
read by ``dashboard.casedata``. Modules:

- actions: State / Action wire vocabulary · errors: the refusals
- lifecycle: ``apply(case, event, rules)`` · casestate: ``CaseState``
- workcalendar: ``WorkCalendar`` · timelimits: limits, ``LimitTable``, ``Rules``
- overdue: lights and light counts · periods: evaluation periods as UTC ranges
- counters → rates → scoring → ranking; evaluation: folds per department/region/collector
- projection: a case as flat SQL columns, and the counters as SQL
- catalogue: component/event codes · gridcode: grid-code checks · gridindex: point → grid
"""
