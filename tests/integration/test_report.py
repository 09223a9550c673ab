"""The evaluation reports (issue 14, docs/reports.md) on both stacks, from twelve days of the demo
city's cases applied through the case step (the history of tests/integration/test_rank.py):

- every cell of each ranking sheet of the XLSX equals `gridwall rank` for the same period (and the
  changes its previous period), numbers are numbers, rates formatted as percentages, sheets named;
- the PDF's text (pdftotext) holds every row of every ranking table as `gridwall rank` prints it,
  its fonts are embedded and cover every character (no tofu), and its first page is rendered;
- a month without cases, and a department with nothing due, give a report, not a crash;
- the desk's download: masked for a masked role (XLSX and PDF), refused without see.reports, a
  period to come is a 400;
- the command refuses bad arguments with exit 2.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from desk_support import ROLES
from helpers import grant
from sqlalchemy import text

from dashboard import cli
from dashboard.casework.ranking import bottom_positions
from dashboard.casework.rates import RATES
from dashboard.city.model import load_city
from dashboard.config import ASSETS_DIR
from dashboard.i18n import t
from dashboard.rank_cmd import cell_text as _cell
from dashboard.rank_cmd import column_label as _label
from dashboard.records import CaseEvent
from dashboard.reports import xlsx
from dashboard.reports.model import RANKED, build
from dashboard.reports.pdf import COUNTERS_PER_TABLE, DEFAULT_FONT, MAIN
from dashboard.screens.rankings import BOTTOM
from dashboard.store import db
from dashboard.store.history_writer import HistoryWriter
from feeds.simulator.world import SimConfig, World
from feeds.steps.cases import CaseBook

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 10, 9, 15, tzinfo=ZONE).timestamp()  # a Friday afternoon, as in test_rank
NOW_ISO = "2026-10-09T15:00"
MASKED_ROLE = """
[roles.reader]
zh = "考评办（脱敏）"
en = "Evaluation office (masked)"
rights = ["see.desk", "see.reports"]
masked = true
"""
PHONE = "13812341234"
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                   reason="poppler-utils (pdftotext, pdftoppm): .ci/system-deps installs them")


@pytest.fixture
def history(stack, tmp_path):
    """Twelve days of the demo city's cases, applied through the case step into SQL."""
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES + MASKED_ROLE, encoding="utf-8")
    settings = stack.settings(tmp_path, roles_file=roles)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    world = World(load_city(ASSETS_DIR / "city"), SimConfig(seed=5, collectors=24, vehicles=0, backfill_days=12,
                                                            cases_per_day=90), START)
    events = [CaseEvent(**m.payload) for m in world.pop_case_events(START, 10**6)]
    book, writer = CaseBook(engine, settings), HistoryWriter(engine)
    for i in range(0, len(events), 400):
        outcome = book(events[i:i + 400])
        assert not outcome.refused, outcome.refused[:3]
        writer.write(events=outcome.applied, cases=outcome.rows, case_stats=outcome.stats, case_steps=outcome.steps)
    yield settings, engine
    engine.dispose()


def _cli(monkeypatch, capsys, settings, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("GRIDWALL_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("GRIDWALL_REDIS_URL", settings.resolved_redis_url)
    monkeypatch.setenv("GRIDWALL_DATA_DIR", str(settings.data_dir))
    code = cli.main([*args, "--now", NOW_ISO])
    out = capsys.readouterr()
    return code, out.out, out.err


def _rank(monkeypatch, capsys, settings, by: str, at: str) -> list[dict]:
    code, out, err = _cli(monkeypatch, capsys, settings, "rank", "--by", by, "--period", "month", "--at", at,
                          "--format", "json")
    assert code == 0, err
    return json.loads(out)["rows"]


def _same(got: object, want: object) -> bool:
    if want is None:
        return got is None
    if isinstance(want, float):
        return isinstance(got, int | float) and abs(got - want) < 1e-12
    return got == want and type(got) is type(want)


def test_the_xlsx_equals_gridwall_rank_cell_by_cell(history, monkeypatch, capsys, tmp_path) -> None:
    settings, _engine = history
    out = tmp_path / "m.xlsx"
    code, _, err = _cli(monkeypatch, capsys, settings, "report", "--period", "month", "--at", "2026-10",
                        "--format", "xlsx", "--out", str(out))
    assert code == 0, err
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [t(f"rp_sheet_{k}") for k in ("summary", *RANKED, "overdue", "trend")]
    nothing_due = 0
    for by in RANKED:
        want = _rank(monkeypatch, capsys, settings, by, "2026-10-01")
        before = {r["code"]: r for r in _rank(monkeypatch, capsys, settings, by, "2026-09-01")}
        sheet = book[t(f"rp_sheet_{by}")]
        rows = list(sheet.iter_rows(values_only=False))
        keys = list(want[0])
        header = [c.value for c in rows[0]]
        assert header[:len(keys)] == [_label(k, "zh") for k in keys]
        assert header[len(keys):] == [t(k) for k in ("rp_prev_position", "rp_position_change", "rp_prev_score",
                                                      "rp_score_change", "rp_bottom")]
        body = rows[1:1 + len(want)]
        assert len(body) == len(want) and all(r[0].value is None for r in rows[1 + len(want):1 + len(want) + 1])
        ranked = sum(1 for r in want if r["position"] is not None)
        bottom = set(bottom_positions(ranked, BOTTOM))
        for cells, row in zip(body, want, strict=True):
            for cell, key in zip(cells, keys, strict=False):
                assert _same(cell.value, row[key]), (by, row["code"], key, cell.value, row[key])
                if key in RATES and row[key] is not None:
                    assert cell.number_format == "0.00%", (by, key)
            prev = before.get(row["code"], {})
            change = [c.value for c in cells[len(keys):]]
            assert change[0] == prev.get("position")
            assert change[1] == (prev["position"] - row["position"] if prev.get("position") and row["position"] else None)
            assert _same(change[2], prev.get("score"))
            assert _same(change[3], round(row["score"] - prev["score"], 2) if prev.get("score") is not None
                         and row["score"] is not None else None)
            assert (change[4] is not None) == (row["position"] in bottom), (by, row["code"])
            nothing_due += row["position"] is None
    assert nothing_due > 0, "a unit with nothing due is a row of its ranking, without a place"
    # The trend's current month is `gridwall rank --by city`'s month; the overdue list's counts
    # per department are the ranking's 超期未处置 / 超期处置 / 返工.
    city = _rank(monkeypatch, capsys, settings, "city", "2026-10-01")[0]
    trend = list(book[t("rp_sheet_trend")].iter_rows(min_row=2, values_only=True))
    assert trend[-1][:4] == ("2026-10", city["reported"], city["filed"], city["closed"])
    assert abs(trend[-1][4] - city["close_rate"]) < 1e-12 and trend[-1][6] == t("yes")
    # ... and every point is the trend's own (the report reuses its two city counts for the last two).
    from dashboard.store.trend import trend as city_trend

    assert [(p.label, p.reported, p.filed, p.closed, p.close_rate, p.on_time_close_rate) for p in
            city_trend(_engine, "month", 12, START, settings.timezone)] == [r[:6] for r in trend]
    departments = {r["name"]: r for r in _rank(monkeypatch, capsys, settings, "department", "2026-10-01")}
    listed = {}
    for r in book[t("rp_sheet_overdue")].iter_rows(min_row=2, values_only=True):
        if r[5]:
            listed[r[1]] = r[2:5]
    assert listed
    names = {d.short_zh: d.name_zh for d in load_city(ASSETS_DIR / "city").departments}
    for short, counts in listed.items():
        row = departments[names[short]]
        assert counts == (row["overdue_pending"], row["disposed_late"], row["reworked"]), short


def _pdftotext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def _has_line(lines: list[list[str]], cells: list[str]) -> bool:
    want = " ".join(cells).split()
    return want in lines


@needs_poppler
def test_the_pdf_says_what_gridwall_rank_says_in_an_embedded_cjk_font(history, monkeypatch, capsys, tmp_path,
                                                                        artifacts) -> None:
    settings, _engine = history
    pdf = tmp_path / "m.pdf"
    code, _, err = _cli(monkeypatch, capsys, settings, "report", "--period", "month", "--at", "2026-10",
                        "--format", "pdf", "--out", str(pdf))
    assert code == 0, err
    assert pdf.read_bytes().startswith(b"%PDF")
    text_ = _pdftotext(pdf)
    lines = [line.split() for line in text_.splitlines()]
    assert "江城市数字城管考评月报" in text_ and "考评周期：2026-10" in text_
    for by in RANKED:
        assert f"{t(f'rp_rank_{by}')} · 2026-10" in text_
        want = _rank(monkeypatch, capsys, settings, by, "2026-10-01")
        before = {r["code"]: r for r in _rank(monkeypatch, capsys, settings, by, "2026-09-01")}
        main = ("score", "grade", *MAIN["department" if by == "department" else "region"])
        counters = [k for k in want[0] if k not in RATES and k not in ("position", "code", "name", "score", "grade")]
        for row in want:
            lead = [_cell("position", row["position"]), row["name"]]
            prev = before.get(row["code"], {})
            moved = prev["position"] - row["position"] if prev.get("position") and row["position"] else None
            change = ["—" if moved is None else "=" if moved == 0 else f"↑{moved}" if moved > 0 else f"↓{-moved}",
                      _cell("position", prev.get("position")), _cell("score", prev.get("score")),
                      f"{row['score'] - prev['score']:+.2f}" if row["score"] is not None
                      and prev.get("score") is not None else "—"]
            assert _has_line(lines, lead + [_cell(k, row[k]) for k in main] + change), (by, row["code"], "main")
            assert _has_line(lines, lead + [_cell(k, row[k]) for k in RATES]), (by, row["code"], "rates")
            for i in range(0, len(counters), COUNTERS_PER_TABLE):
                chunk = counters[i:i + COUNTERS_PER_TABLE]
                assert _has_line(lines, lead + [_cell(k, row[k]) for k in chunk]), (by, row["code"], chunk)
    # Fonts: embedded, and every character of the text is in the CJK font (no tofu).
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout.splitlines()[2:]
    assert fonts and all(" yes yes yes " in f for f in fonts), fonts
    from fontTools.ttLib import TTCollection

    cmap = TTCollection(str(DEFAULT_FONT), lazy=True).fonts[0].getBestCmap()
    missing = {ch for ch in text_ if not ch.isspace() and ord(ch) not in cmap}
    assert not missing, missing
    # One page rendered, kept for a person to look at (test-artifacts/), and not blank.
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(artifacts / "report-month-page1")], check=True)
    from PIL import Image

    page = Image.open(artifacts / "report-month-page1.png").convert("L")
    assert page.width > page.height > 500  # A4 landscape
    dark = sum(1 for v in page.getdata() if v < 128)
    assert dark > 0.01 * page.width * page.height, "the page has text and charts on it"


@needs_poppler
def test_a_month_without_cases_gives_a_report(history, tmp_path) -> None:
    settings, engine = history
    report = build(engine, settings, "month", date(2026, 8, 1), START, "zh")
    assert all(r["position"] is None and r["score"] is None for ranking in report.rankings for r in ranking.rows)
    assert report.overdue["departments"] == [] and report.city["reported"] == 0
    book = openpyxl.load_workbook(io.BytesIO(xlsx.render(report)))
    streets = list(book[t("rp_sheet_street")].iter_rows(min_row=2, values_only=True))
    assert len(streets) >= 12 and all(r[0] is None and r[3] is None for r in streets[:12])
    from dashboard.reports.pdf import render

    pdf = tmp_path / "empty.pdf"
    pdf.write_bytes(render(report, settings))
    text_ = _pdftotext(pdf)
    assert t("rp_no_cases") in text_ and t("rp_overdue_none") in text_ and t("rp_bottom_none") in text_


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / f"d{time.monotonic_ns()}.pdf"
    path.write_bytes(data)
    return _pdftotext(path)


@needs_poppler
def test_the_desk_download_is_masked_for_a_masked_role(history, tmp_path) -> None:
    from dashboard.app import create_app

    settings, engine = history
    at = "2026-10"
    # A phone number and a name in the title of the first case the overdue list shows.
    report = build(engine, settings, "month", date(2026, 10, 1), time.time(), "zh")
    first = report.overdue["departments"][0]["cases"][0]["case_id"]
    with engine.begin() as conn:
        conn.execute(text('UPDATE "case" SET title = :t WHERE case_id = :c'), {"t": f"请拨{PHONE}找张三丰", "c": first})
    app = create_app(settings).server
    client = app.test_client()

    def get(role: str, path: str):
        token = grant(settings.resolved_database_url, role, f"test-{role}", token="")
        return client.get(path, headers={"Authorization": f"Bearer {token}"})

    for fmt in ("xlsx", "pdf"):
        masked = get("reader", f"/desk/api/report.{fmt}?period=month&at={at}")
        clear = get("leader", f"/desk/api/report.{fmt}?period=month&at={at}")
        assert masked.status_code == clear.status_code == 200
        assert f'filename="report-month-{at}-zh.{fmt}"' in masked.headers["Content-Disposition"]
        if fmt == "xlsx":
            def words(data: bytes) -> str:
                book = openpyxl.load_workbook(io.BytesIO(data))
                return " ".join(str(v) for ws in book.worksheets for r in ws.iter_rows(values_only=True) for v in r
                                if v is not None)
            seen, plain = words(masked.data), words(clear.data)
        else:
            seen, plain = _pdf_text(masked.data, tmp_path), _pdf_text(clear.data, tmp_path)
        assert PHONE not in seen and "138****1234" in seen and t("rp_masked") in seen, fmt
        assert "test-reader" not in seen, "the exporter's name is masked too"
        assert PHONE in plain and "test-leader" in plain, fmt
    assert get("viewer", f"/desk/api/report.pdf?period=month&at={at}").status_code == 403
    refused = get("leader", "/desk/api/report.xlsx?period=year&at=2099")
    assert refused.status_code == 400 and refused.json["reason"] == "future"
    assert get("leader", "/desk/api/report.xlsx?period=month&at=2026-W41").json["reason"] == "bad_period"
    assert get("leader", "/desk/api/report.docx?period=month").status_code == 404


def test_the_command_refuses_bad_arguments(history, monkeypatch, capsys, tmp_path) -> None:
    settings, _engine = history
    code, _, err = _cli(monkeypatch, capsys, settings, "report", "--period", "month", "--at", "2026-W41",
                        "--format", "pdf")
    assert code == 2 and "2026-11" in err
    code, _, err = _cli(monkeypatch, capsys, settings, "report", "--period", "month", "--at", "2026-11",
                        "--format", "xlsx", "--out", str(tmp_path / "x.xlsx"))
    assert code == 2 and "has not begun" in err and not (tmp_path / "x.xlsx").exists()
    with pytest.raises(SystemExit) as exc:
        _cli(monkeypatch, capsys, settings, "report", "--period", "fortnight", "--format", "pdf")
    assert exc.value.code == 2
    config = tmp_path / "gridwall.toml"
    config.write_text('[reports]\nfont = "/nonexistent/NotoSansCJK.ttc"\n', encoding="utf-8")
    code, _, err = _cli(monkeypatch, capsys, settings, "--config", str(config), "report", "--period", "week",
                        "--at", "2026-W41", "--format", "pdf", "--out", str(tmp_path / "w.pdf"))
    assert code == 2 and "/nonexistent/NotoSansCJK.ttc" in err
    # Without --at: the last period that ended (September, seen on 9 October).
    code, out, err = _cli(monkeypatch, capsys, settings, "report", "--period", "month", "--format", "xlsx",
                          "--lang", "en", "--out", str(tmp_path / "sep.xlsx"))
    assert code == 0 and re.search(r"sep\.xlsx \([\d,]+ bytes\)", out), err
    assert openpyxl.load_workbook(tmp_path / "sep.xlsx").sheetnames[1] == "Departments"


def test_the_schedule_writes_each_closed_periods_report_once_among_workers(history) -> None:
    """Two ingest workers' schedules see September and week 40 closed: each report is written
    by exactly one of them, into the data directory, and never again."""
    import dataclasses
    import threading

    import redis

    from dashboard.reports.schedule import ReportSchedule
    from dashboard.store.report_claims import DONE, ReportClaims

    settings, engine = history
    settings = dataclasses.replace(settings, sections={"reports": {
        "schedule": ["week", "month"], "schedule_formats": ["xlsx", "pdf"], "schedule_langs": ["zh"]}})
    claims = ReportClaims(redis.Redis.from_url(settings.resolved_redis_url))
    now = START + 86400.0  # Saturday 10 October: September and week 40 (28 Sep - 4 Oct) have closed
    workers = [ReportSchedule(settings, engine, claims, f"w{i}", started=START) for i in range(2)]
    assert [(k, d.isoformat()) for k, d in workers[0].due(now)] == [("week", "2026-09-28"), ("month", "2026-09-01")]
    workers[0].tick(START + 60)  # a worker that has just started does not look yet
    assert workers[0]._thread is None
    written: list[list[Path]] = [[], []]
    start = threading.Barrier(2)

    def run(i: int) -> None:
        start.wait()
        written[i] = workers[i].run_once(now)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    names = sorted(p.name for w in written for p in w)
    assert names == sorted(f"report-{k}-{label}-zh.{fmt}" for k, label in (("week", "2026-W40"), ("month", "2026-09"))
                           for fmt in ("xlsx", "pdf")), written
    folder = settings.data_dir / "reports"
    assert sorted(p.name for p in folder.iterdir()) == names, "no temporary file left"
    assert claims.state("report-month-2026-09-zh") == claims.state("report-week-2026-W40-zh") == DONE
    sheet = openpyxl.load_workbook(folder / "report-month-2026-09-zh.xlsx")
    assert sheet.sheetnames[0] == t("rp_sheet_summary")
    # Later ticks, and a third worker started afterwards, write nothing again.
    assert ReportSchedule(settings, engine, claims, "w3", started=START).run_once(now + 3600) == []
    assert workers[0].pending(now + 3600) == []


@pytest.mark.parametrize(("kind", "at"), [("day", "2026-10-08"), ("week", "2026-W41"), ("quarter", "2026-Q4"),
                                          ("year", "2026")])
def test_every_kind_of_period_makes_a_report_with_its_trend(history, kind, at) -> None:
    """A day's report shows the weeks, a quarter's and a year's the months, up to the period's end
    (or now): the trend's own points."""
    from dashboard.casework.period_labels import parse_label
    from dashboard.reports.model import TREND_OF
    from dashboard.store.trend import trend as city_trend

    settings, engine = history
    report = build(engine, settings, kind, parse_label(kind, at), START, "en")
    unit, count = TREND_OF[kind]
    assert report.trend == city_trend(engine, unit, count, min(report.end, START), settings.timezone)
    assert report.label == at and report.rankings and report.city["reported"] > 0
    book = openpyxl.load_workbook(io.BytesIO(xlsx.render(report)))
    assert book.sheetnames == ["Summary", "Departments", "Districts", "Streets", "Overdue list", "Trend"]
