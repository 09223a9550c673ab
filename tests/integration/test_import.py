"""`gridwall import`: an export of case events goes through the ingest pipeline into SQL and
Redis, on real servers. Each refused line is named by its line number, the good lines around it
land, a second import of the same file changes nothing, and events out of order still apply."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from sqlalchemy import select

from dashboard.cli import build_parser, main
from dashboard.config import Settings, load_settings
from dashboard.store import db
from dashboard.store.deadletters import DeadLetterStore
from dashboard.store.hot import HotStore, connect
from dashboard.store.models import CaseEventRow, CaseRow
from dashboard.store.parked import ParkedEvents

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"


def gridwall_import(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    """The command as the CLI wires it, with the test's settings."""
    words = ["import", *map(str, argv)]
    args = build_parser(words).parse_args(words)
    code = args.handler(args, settings)
    out = capsys.readouterr()
    return code, out.out, out.err


def rejects(err: str) -> dict[int, str]:
    return {int(n): reason for n, reason in re.findall(r"^line (\d+): (\w+): ", err, re.M)}


def cases(settings: Settings) -> dict[str, dict[str, Any]]:
    with db.engine_for(settings.resolved_database_url).connect() as conn:
        rows = conn.execute(select(CaseRow.__table__)).mappings()
        return {row["case_id"]: dict(row) for row in rows}


def events(settings: Settings) -> list[tuple[Any, ...]]:
    t = CaseEventRow.__table__
    with db.engine_for(settings.resolved_database_url).connect() as conn:
        rows = conn.execute(select(t.c.event_id, t.c.case_id, t.c.action, t.c.ts, t.c.actor, t.c.source, t.c.payload))
        return sorted(tuple(r) for r in rows)


def test_a_jsonl_lifecycle_lands_in_sql_and_redis(settings, capsys):
    code, out, err = gridwall_import(settings, capsys, FIXTURES / "lifecycle.jsonl")
    assert code == 0, err
    assert "12 lines read, 12 events applied, 0 duplicates, 0 lines rejected" in out

    rows = cases(settings)
    closed, open_ = rows["IMP-1"], rows["IMP-2"]
    assert closed["state"] == "closed" and closed["department"] == "环卫处"
    assert closed["closed_at"].timestamp() == 1794800400  # 2026-11-16 11:40 +08:00
    assert closed["title"] == "暴露垃圾" and (closed["lat"], closed["lon"]) == (30.27, 120.16)
    assert open_["state"] == "dispatched" and open_["department"] == "市政所" and open_["urgent"] is True
    assert open_["deadline"] is not None
    assert len(events(settings)) == 12

    hot = HotStore(connect(settings.resolved_redis_url))
    assert [c["case_id"] for c in hot.open_cases()] == ["IMP-2"]  # a closed case leaves the wall
    assert hot.stats()["case"]["accepted"] == 12


def test_a_csv_with_bom_and_local_times_gives_the_same_cases(stack, tmp_path, capsys):
    from_jsonl, from_csv = stack.settings(tmp_path / "a"), stack.settings(tmp_path / "b")
    assert gridwall_import(from_jsonl, capsys, FIXTURES / "lifecycle.jsonl")[0] == 0
    redis.Redis.from_url(stack.redis_url).flushall()  # else the CSV's events are duplicates

    assert (FIXTURES / "lifecycle.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    code, out, err = gridwall_import(from_csv, capsys, FIXTURES / "lifecycle.csv")
    assert code == 0, err
    assert "12 events applied" in out
    assert "columns ignored" in err and "reporter" in err  # not a field of the native schema
    # Naive times in the city's zone, Z, epoch seconds and Excel's 2026/11/16 9:15 all agree.
    assert cases(from_csv) == cases(from_jsonl)
    assert events(from_csv) == events(from_jsonl)


@pytest.mark.parametrize(("name", "refused", "waiting", "applied", "case_id", "state"), [
    # line 4, R-1's close, comes after its dispatch but its feedback and check are not in the file:
    # kept, waiting for them (its case's history is incomplete), not refused
    ("rejects.jsonl", {2: "invalid_json", 5: "unknown_action", 6: "coord_out_of_range",
                       8: "missing_field", 11: "illegal_transition", 12: "not_finite"}, {4}, 4, "R-1", "dispatched"),
    ("rejects.csv", {3: "wrong_type", 4: "wrong_type", 5: "wrong_type", 6: "missing_field", 8: "unknown_action",
                     9: "wrong_type"}, set(), 3, "B-1", "filed"),
])
def test_rejects_are_named_by_line_and_the_good_lines_land(settings, capsys, name, refused, waiting, applied, case_id, state):
    code, out, err = gridwall_import(settings, capsys, FIXTURES / name)
    assert code == 1
    found = rejects(err)
    assert {n for n, r in found.items() if r == "waiting"} == waiting, err
    assert {n: r for n, r in found.items() if r != "waiting"} == refused, err
    assert f"{applied} events applied" in out and f"{len(refused)} lines rejected, {len(waiting)} lines waiting" in out
    assert cases(settings)[case_id]["state"] == state
    assert len(cases(settings)) == 1

    hot = HotStore(connect(settings.resolved_redis_url))
    letters = DeadLetterStore(db.engine_for(settings.resolved_database_url)).list(limit=50)
    assert sorted(d.reason for d in letters) == sorted(refused.values())
    assert hot.stats()["case"]["rejected"] == len(refused)
    assert ParkedEvents(db.engine_for(settings.resolved_database_url)).count() == len(waiting)  # kept, in SQL


def test_importing_the_same_file_again_changes_nothing(settings, capsys):
    assert gridwall_import(settings, capsys, FIXTURES / "lifecycle.jsonl")[0] == 0
    before, history = cases(settings), events(settings)
    code, out, err = gridwall_import(settings, capsys, FIXTURES / "lifecycle.jsonl")
    assert code == 0, err
    assert "0 events applied, 12 duplicates, 0 lines rejected" in out
    assert cases(settings) == before and events(settings) == history


def test_a_refused_line_is_tried_again_on_the_next_import(settings, capsys):
    # A refused event is never marked seen: once the file is fixed, the same event id must not
    # be skipped as a duplicate of a line that never landed. The identical lines that landed are
    # named as duplicates.
    first = gridwall_import(settings, capsys, FIXTURES / "rejects.jsonl")
    second = gridwall_import(settings, capsys, FIXTURES / "rejects.jsonl")
    assert second[0] == 1
    again = rejects(second[2])
    assert {n: r for n, r in again.items() if r != "duplicate"} == rejects(first[2])
    assert sorted(n for n, r in again.items() if r == "duplicate") == [1, 3, 7, 10]
    assert "0 events applied, 4 duplicates, 6 lines rejected, 1 lines waiting" in second[1]


@pytest.mark.parametrize("batch", [1, 500])
def test_events_out_of_order_wait_for_their_predecessors(settings, tmp_path, capsys, batch):
    lines = (FIXTURES / "lifecycle.jsonl").read_text(encoding="utf-8").splitlines()
    reversed_file = tmp_path / "reversed.jsonl"
    reversed_file.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")

    code, out, err = gridwall_import(settings, capsys, reversed_file, "--batch", batch)
    assert code == 0, err
    assert "12 events applied" in out
    rows = cases(settings)
    assert (rows["IMP-1"]["state"], rows["IMP-2"]["state"]) == ("closed", "dispatched")
    assert ParkedEvents(db.engine_for(settings.resolved_database_url)).count() == 0
    assert DeadLetterStore(db.engine_for(settings.resolved_database_url)).list() == []


def test_parked_events_stay_out_of_a_running_workers_reach(settings, tmp_path):
    # With a demo running, its ingest worker retries parked events every tick and refuses them
    # after case_park_s; the import's own must wait for the end of the file instead.
    from feeds.import_cmd import Importer, JsonlSource, Topics
    from feeds.ingest import build_pipeline

    lines = (FIXTURES / "lifecycle.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "reversed.jsonl"
    path.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    hot = HotStore(connect(settings.resolved_redis_url))
    pipeline = build_pipeline(settings, engine, hot, case_park_s=math.inf)
    worker = build_pipeline(settings, engine, hot)  # as a running `gridwall ingest` has it

    taken = []

    def items():
        for n, item in enumerate(JsonlSource(path).items(Topics(pipeline.router)), start=1):
            if n == 3:  # lines 1 and 2 have been through the pipeline and wait for their predecessors
                assert ParkedEvents(engine).count() == 2
                taken.append(worker.retry_parked(time.time() + 3600))
            yield item

    report = Importer(pipeline, batch_lines=1).run(items())
    assert not (taken[0].accepted or taken[0].refusals or taken[0].parked)  # it claimed nothing
    assert (report.applied, report.rejects) == (12, [])


def test_open311_request_lines_are_taken_too(settings, tmp_path, capsys):
    # As Open311's own sample writes it: a bare 006, which strict JSON refuses.
    line = ('[{"service_request_id":638344,"status":"closed","service_name":"Sidewalk and Curb Issues",'
            '"service_code":006,"requested_datetime":"2026-11-16T09:00:00+08:00",'
            '"updated_datetime":"2026-11-17T10:00:00+08:00","lat":30.27,"long":120.16}]')
    path = tmp_path / "open311.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    code, out, err = gridwall_import(settings, capsys, path)
    assert code == 0, err
    assert "1 lines read, 2 events applied" in out  # REPORT and CLOSE
    assert cases(settings)["open311:638344"]["state"] == "closed"


def test_usage_errors_exit_2_before_anything_is_imported(tmp_path, capsys):
    assert main(["import", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err

    odd = tmp_path / "export.xlsx"
    odd.write_bytes(b"PK")
    assert main(["import", str(odd)]) == 2
    assert "--format" in capsys.readouterr().err

    # --format overrides the extension: read as CSV, the header is checked (and lacks ts).
    named_txt = tmp_path / "export.txt"
    named_txt.write_text("event_id,case_id,action\nE1,C1,report\n", encoding="utf-8")
    assert main(["import", "--format", "csv", str(named_txt)]) == 2
    assert "lacks ts" in capsys.readouterr().err

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("event_id,case_id,action,ts,title\nE1,C1,report,2026-11-16 09:00,暴露垃圾\n".encode("gb18030"))
    assert main(["import", str(gbk)]) == 2
    assert "--encoding gb18030" in capsys.readouterr().err


def test_without_a_redis_url_a_private_redis_runs_for_the_import(tmp_path, capsys):
    # The embedded demo configuration with no demo running: the import starts redis-server on
    # the demo's socket and files, and stops it again; the next demo (or import) finds its state.
    settings = load_settings(path=None, environ={}, data_dir=tmp_path / "data")
    assert settings.redis_url is None and settings.database_url is None
    export = tmp_path / "export.txt"
    export.write_bytes((FIXTURES / "lifecycle.jsonl").read_bytes())

    code, out, err = gridwall_import(settings, capsys, export, "--format", "jsonl")
    assert code == 0, err
    assert "12 events applied" in out
    assert cases(settings)["IMP-1"]["state"] == "closed"
    with pytest.raises((redis.RedisError, OSError)):
        redis.Redis.from_url(settings.resolved_redis_url, socket_connect_timeout=0.5).ping()

    code, out, err = gridwall_import(settings, capsys, export, "--format", "jsonl")
    assert code == 0, err
    assert "0 events applied, 12 duplicates" in out  # the dedupe marks came back from its files


def test_both_kinds_of_duplicate_are_named_by_line(settings, tmp_path, capsys):
    report = ('{"event_id":"DUP-1","case_id":"DUP","action":"report","time":"2026-11-16T09:00:00+08:00",'
              '"case":{"source":"supervisor","category":"event","small_code":"0102","grid_code":"33990200100101",'
              '"lat":30.27,"lon":120.16}}')
    other = report.replace('"case_id":"DUP"', '"case_id":"DUP-OTHER"')  # the same id, another event
    path = tmp_path / "dups.jsonl"
    path.write_text("\n".join([report, report, other]) + "\n", encoding="utf-8")
    code, out, err = gridwall_import(settings, capsys, path)
    assert code == 1
    assert rejects(err) == {2: "duplicate", 3: "conflicting_duplicate"}, err
    assert "1 events applied, 1 duplicates, 1 lines rejected" in out
    letters = DeadLetterStore(db.engine_for(settings.resolved_database_url)).list(reason="conflicting_duplicate")
    assert sorted(orjson.loads(letter.payload)["case_id"] for letter in letters) == ["DUP", "DUP-OTHER"]  # both versions
