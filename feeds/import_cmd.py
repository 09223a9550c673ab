"""``gridwall import FILE``: case events exported by an existing 数字城管 system, loaded into the
database through the ingest pipeline (docs/import.md).

Each line becomes the MQTT message it would have been (``gridwall/case/<case_id>``, or
``open311/requests``) and goes through the same Pipeline ingest runs: decode, validate, dedupe,
enrich, the case lifecycle, SQL and Redis. So a line is refused for exactly the reasons a
published event would be, lands in the same dead-letter store and counters, and a file imported
twice is recognised by the same dedupe. What the import adds is the line number of every
refusal and the end of the file: an event still waiting for its predecessor when the file is
done will not get it from this file, so it is refused then, not case_park_s later.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import logging
import math
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy.exc import SQLAlchemyError

from dashboard.config import Settings
from dashboard.launcher import Child, redis_server_argv
from dashboard.store import db
from dashboard.store.hot import REDIS_DOWN, HotStore, connect, redis_state
from feeds.decoders._fields import require_id
from feeds.decoders.native import CASE_STR_FIELDS, URGENCY_WORDS  # the native schema's own field lists
from feeds.ingest import build_pipeline
from feeds.pipeline import BatchResult, Message, Pipeline
from feeds.rebuild import rebuild_if_empty
from feeds.rejects import Reason, Rejected
from feeds.steps.publish import Ticker
from feeds.topics import TopicRouter

log = logging.getLogger("gridwall.import")

BATCH_LINES = 500
ANY_CASE = "*"  # an Open311 line: its case ids come out of the decoder
HOLD_S = 24 * 3600.0  # how long this import's parked events stay out of ingest workers' reach
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_BOM = "\ufeff".encode()

# CSV columns: the native case event's fields, flat (docs/mqtt.md §3.3 accepts case fields
# beside the event fields), so a refusal names the column exactly as the header spells it.
REQUIRED_COLUMNS = ("event_id", "case_id", "action")
TIME_COLUMNS = ("ts", "time", "deadline")
NUMBER_COLUMNS = ("lat", "lon")
COLUMNS = frozenset(
    (*REQUIRED_COLUMNS, *TIME_COLUMNS, *NUMBER_COLUMNS, "actor", "crs", "urgent", "urgency", *CASE_STR_FIELDS)
)
_EPOCH = re.compile(r"^\d+(\.\d+)?$")
_SLASHED = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")  # Excel's display format
_YES = frozenset({"true", "1", "yes", "y", "是"})
_NO = frozenset({"false", "0", "no", "n", "否"})


class UsageError(Exception):
    """The command cannot start: nothing is imported (exit 2)."""


class Stopped(Exception):
    """Storing failed part-way (exit 3); ``line`` is the first line not stored."""

    def __init__(self, line: int, cause: Exception) -> None:
        super().__init__(f"stopped before line {line}: {cause}")
        self.line = line


@dataclass(frozen=True, slots=True)
class Item:
    """One line of the file: the message it becomes, and the refusal when it cannot even be
    given a topic (a line with no case_id: the topic would have to invent one)."""

    line: int
    message: Message
    refused: Rejected | None = None
    case_id: str | None = None  # the case it is about; None: none (refused), ANY_CASE: known once decoded


# --- topics ------------------------------------------------------------------------------------


class Topics:
    """Topics the configured router sends to the native case and Open311 decoders (feeds.topics
    may move them), so each line reaches the decoder its MQTT message would."""

    def __init__(self, router: TopicRouter) -> None:
        patterns = {r.format: r.pattern for r in reversed(router.routes)}  # most specific wins
        self._case = patterns.get("native.case", "gridwall/case/+")
        self.open311 = _fill(patterns.get("open311", "open311/requests"), "import")

    def case(self, case_id: str) -> str:
        return _fill(self._case, case_id)

    def placeholder(self, line: int) -> str:
        # For a line that is no event object: the decoder refuses it exactly as on MQTT, and the
        # dead letter's topic says where it came from.
        return self.case(f"import-line-{line}")


def _fill(pattern: str, last: str) -> str:
    """The pattern with its last wildcard level set to ``last`` (the decoders read the case id
    from the last level) and any other ``+`` to "import"."""
    levels = pattern.split("/")
    wild = [i for i, level in enumerate(levels) if level in ("+", "#")]
    for i in wild:
        levels[i] = last if i == wild[-1] else "import"
    return "/".join(levels)


def _message(topic: str, payload: bytes) -> Message:
    return Message(topic, payload, time.time(), qos=1)


# --- JSONL ---------------------------------------------------------------------------------------


class JsonlSource:
    """One event per line, exactly as published on MQTT; Open311 request lines too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _readable(path)
        self.warnings: list[str] = []

    def items(self, topics: Topics) -> Iterator[Item]:
        with self.path.open("rb") as f:
            for n, raw in enumerate(f, start=1):
                line = raw.strip()
                if n == 1:
                    line = line.removeprefix(_BOM)  # Windows editors write one
                if line:
                    yield jsonl_item(n, line, topics)


def jsonl_item(n: int, line: bytes, topics: Topics) -> Item:
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        doc = None
    # Open311's own sample is not strict JSON (service_code 006), so an unparsed line that
    # names a service request still goes to its decoder, which tolerates that.
    if _is_open311(doc) or (doc is None and b'"service_request_id"' in line):
        return Item(n, _message(topics.open311, line), case_id=ANY_CASE)
    if type(doc) is not dict:
        return Item(n, _message(topics.placeholder(n), line))
    try:
        case_id = require_id(doc, "case_id")
    except Rejected as exc:
        return Item(n, _message(topics.placeholder(n), line), exc)
    return Item(n, _message(topics.case(case_id), line), case_id=case_id)


def _is_open311(doc: Any) -> bool:
    if type(doc) is list:  # what GET requests.json returns
        doc = doc[0] if doc else None
    return type(doc) is dict and "service_request_id" in doc and "action" not in doc


# --- CSV -------------------------------------------------------------------------------------------


class CsvSource:
    """A header row, then one event per row; the row becomes the native event's JSON."""

    def __init__(self, path: Path, encoding: str, tz: tzinfo) -> None:
        self.tz = tz
        _readable(path)
        try:
            # Decoded whole before anything is imported, so a file in the wrong encoding is a
            # usage error rather than an import that stops half-way.
            self.text = path.read_bytes().decode(encoding)
        except LookupError:
            raise UsageError(f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"{path} is not {encoding} (byte {exc.start}); save it as 'CSV UTF-8', or give "
                "--encoding gb18030 for an export in the Chinese Windows code page") from None
        self.reader = csv.reader(io.StringIO(self.text, newline=""))
        try:
            header = next(self.reader)
        except (StopIteration, csv.Error):
            raise UsageError(f"{path} has no header row") from None
        self.columns = [h.strip().lstrip("\ufeff").lower() for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in self.columns]
        if not {"ts", "time"} & set(self.columns):
            missing.append("ts")
        if missing:
            raise UsageError(f"the header row lacks {', '.join(missing)} (columns: docs/import.md)")
        twice = sorted({c for c in self.columns if c and self.columns.count(c) > 1})
        if twice:
            raise UsageError(f"the header row names {', '.join(twice)} more than once")
        ignored = [c for c in self.columns if c not in COLUMNS]
        self.warnings = [f"columns ignored (not fields of a case event, docs/import.md): {', '.join(ignored)}"] if ignored else []

    def items(self, topics: Topics) -> Iterator[Item]:
        while True:
            n = self.reader.line_num + 1  # where the row starts (a quoted cell may span lines)
            try:
                cells = next(self.reader)
            except StopIteration:
                return
            except csv.Error as exc:
                refusal = Rejected(Reason.WRONG_TYPE, f"the CSV row cannot be read: {exc}")
                yield Item(n, _message(topics.placeholder(n), b""), refusal)
                continue
            if any(c.strip() for c in cells):
                yield self.row_item(n, cells, topics)

    def row_item(self, n: int, cells: list[str], topics: Topics) -> Item:
        doc = row_event(self.columns, cells, self.tz)
        payload = orjson.dumps(doc)
        if len(cells) > len(self.columns) and any(c.strip() for c in cells[len(self.columns):]):
            refusal = Rejected(Reason.WRONG_TYPE, f"the row has {len(cells)} cells but the header row {len(self.columns)} columns")
            return Item(n, _message(topics.placeholder(n), payload), refusal)
        try:
            case_id = require_id(doc, "case_id")
        except Rejected as exc:
            return Item(n, _message(topics.placeholder(n), payload), exc)
        return Item(n, _message(topics.case(case_id), payload), case_id=case_id)


def row_event(columns: list[str], cells: list[str], tz: tzinfo) -> dict[str, Any]:
    """A CSV row as the native event's JSON object. Only the conversions a spreadsheet needs
    are made (numbers, true/false, the city's local time); a cell that does not convert is
    passed on as text, so the decoder refuses it with the reason it gives on MQTT."""
    doc: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=False):  # a short row: the rest is empty
        value = cell.strip()
        if not value or column not in COLUMNS:
            continue  # an empty cell is an absent field
        if column in TIME_COLUMNS:
            doc[column] = csv_time(value, tz)
        elif column in NUMBER_COLUMNS:
            doc[column] = csv_number(value)
        elif column == "urgent":
            doc.update(csv_urgent(value))
        else:
            doc[column] = value
    return doc


def csv_time(value: str, tz: tzinfo) -> str:
    """ISO 8601 with an offset as it is; without one, the city's local time; epoch seconds as
    they are (the decoder reads numeric strings as epoch values)."""
    if _EPOCH.match(value):
        return value
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        for fmt in _SLASHED:
            with contextlib.suppress(ValueError):
                moment = datetime.strptime(value, fmt)
                break
    if moment is None:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.isoformat()


def csv_number(value: str) -> float | str:
    try:
        number = float(value)
    except ValueError:
        return value
    # NaN and infinity have no JSON form (orjson would write null): pass the text on.
    return number if math.isfinite(number) else value


def csv_urgent(value: str) -> dict[str, Any]:
    low = value.lower()
    if low in _YES:
        return {"urgent": True}
    if low in _NO:
        return {"urgent": False}
    # 紧急/一般/urgent/general as the native `urgency`; anything else is refused by the decoder
    # in the column's own name.
    return {"urgency": value} if value in URGENCY_WORDS or low in URGENCY_WORDS else {"urgent": value}


def _readable(path: Path) -> None:
    try:
        path.open("rb").close()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def open_source(path: Path, fmt: str | None, encoding: str, tz: tzinfo) -> JsonlSource | CsvSource:
    fmt = fmt or SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"cannot tell the format of {path.name}: name it .jsonl or .csv, or give --format")
    return CsvSource(path, encoding, tz) if fmt == "csv" else JsonlSource(path)


# --- the import ------------------------------------------------------------------------------------


@dataclass
class Report:
    lines: int = 0
    applied: int = 0
    duplicates: int = 0
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, detail)
    repeats: list[tuple[int, str]] = field(default_factory=list)  # (line, event_id): already stored, identical
    # (line, case_id, detail): kept, waiting for an earlier event of its case that was not in the
    # file; the case's history is incomplete until that event is imported
    waiting: list[tuple[int, str, str]] = field(default_factory=list)


class Importer:
    """Feeds the lines through the pipeline, using only its public interface: handle, refuse,
    hold_parked and retry_now."""

    def __init__(self, pipeline: Pipeline, batch_lines: int = BATCH_LINES) -> None:
        self.pipeline = pipeline
        self.batch_lines = batch_lines
        self.report = Report()
        self.waiting: dict[str, tuple[int, str]] = {}  # parked event id -> (its line, its case)

    def run(self, items: Iterable[Item]) -> Report:
        it = iter(items)
        while batch := list(islice(it, self.batch_lines)):
            self.report.lines += len(batch)
            lines: dict[int, int] = {}  # id(message) -> line, while the batch holds the messages
            messages: list[Message] = []
            refused: list[tuple[Message, Rejected]] = []
            for item in batch:
                if item.refused is None:
                    lines[id(item.message)] = item.line
                    messages.append(item.message)
                else:
                    # The line never becomes a pipeline message; its dead letter is written as
                    # the pipeline writes one, so the store holds every refused line.
                    refused.append((item.message, item.refused))
                    self.report.rejects.append((item.line, item.refused.reason.value, item.refused.detail))
            self.pipeline.refuse(refused)
            try:
                result = self.pipeline.handle(messages) if messages else BatchResult()
                self._absorb(result, lines)
                if sum(result.accepted.values()) and self.waiting:
                    # Only this batch's cases can have moved on.
                    self._retry_waiting({item.case_id for item in batch if item.case_id is not None})
            except Exception as exc:
                raise Stopped(batch[0].line, exc) from exc
        # Every batch that applied something was followed by retries until none applied more,
        # so what still waits now will not apply.
        self._give_up_waiting()
        return self.report

    def _absorb(self, result: BatchResult, lines: dict[int, int],
                retried: dict[str, tuple[int, str]] | None = None) -> set[str]:
        """Count a result and name its refusals by line; returns the refused event ids."""
        retried = retried or {}
        self.report.applied += sum(result.accepted.values())
        self.report.duplicates += sum(result.duplicates.values())
        refused: set[str] = set()
        for r in result.refusals:
            line = lines.get(id(r.message))
            if r.event_id is not None:
                refused.add(r.event_id)
                if line is None and r.event_id in retried:
                    line = retried[r.event_id][0]
            if line is not None:
                self.report.rejects.append((line, r.reason, r.detail))
        # (A refused event is not marked seen: importing the fixed file tries it again.)
        for msg, event_id in result.repeats:
            line = lines.get(id(msg)) if msg is not None else None
            if line is None and event_id in retried:
                line = retried[event_id][0]
            if line is not None:
                self.report.repeats.append((line, event_id))
        for event, _msg, detail in result.incomplete:
            if event.event_id in retried:
                self.report.waiting.append((retried[event.event_id][0], event.case_id, detail))
                refused.add(event.event_id)  # settled for this import: not waiting on the file
        held: dict[str, tuple[int, str]] = {}
        for event, msg in result.parked:
            line = lines.get(id(msg)) if msg is not None else None
            if line is None and event.event_id in retried:
                line = retried[event.event_id][0]
            if line is not None:
                held[event.event_id] = (line, event.case_id)
        if held:
            # Out of other workers' reach until this import retries them: a running ingest would
            # otherwise claim them and refuse them after case_park_s. Should the import die, it
            # finds them later and settles them as it settles any parked event.
            self.pipeline.hold_parked(held, time.time() + HOLD_S)
            self.waiting.update(held)
        return refused

    def _retry_waiting(self, touched: set[str]) -> None:
        """Retry the parked events of the cases that moved on, round after round: each applied
        event may be the predecessor another one waits for."""
        while touched:
            due = [e for e, (_line, case_id) in self.waiting.items() if ANY_CASE in touched or case_id in touched]
            if not due:
                return
            touched = self._retry_round(due)

    def _retry_round(self, due: list[str], patience_s: float | None = None) -> set[str]:
        """Retry these parked events once (only these: other parked events keep their own
        schedule); returns the cases of those that applied."""
        retried = {e: self.waiting.pop(e) for e in due}
        refused: set[str] = set()
        for result in self.pipeline.retry_now(retried, patience_s=patience_s):
            refused |= self._absorb(result, {}, retried)
        return {case_id for e, (_line, case_id) in retried.items() if e not in self.waiting and e not in refused}

    def _give_up_waiting(self) -> None:
        """The file has ended: an event still waiting for its predecessor will not get it from
        this file. It stays parked (kept, its case marked incomplete), as ingest keeps one after
        case_park_s, and the report names its line."""
        if self.waiting:
            self._retry_round(list(self.waiting), patience_s=0.0)


# --- Redis -------------------------------------------------------------------------------------


def _wait_up(url: str, child: Child | None, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while redis_state(url) != "up":
        if child is not None and not child.alive():
            raise RuntimeError(f"redis-server exited during start-up:\n{child.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Redis at {url} was not ready after {timeout_s:.0f} s")
        time.sleep(0.1)


@contextlib.contextmanager
def redis_for(settings: Settings) -> Iterator[str]:
    """The Redis the wall reads: the configured one; else the running demo's embedded one; else
    (no demo running) a private redis-server on the demo's socket and files in the data
    directory for the duration of the import, so the next `gridwall demo` finds the imported
    cases and dedupe marks. While it runs, a demo refuses to start on the same directory."""
    if settings.redis_url:
        yield settings.redis_url
        return
    url = settings.resolved_redis_url
    if redis_state(url) != "down":
        _wait_up(url, None)
        yield url
        return
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    settings.redis_socket.unlink(missing_ok=True)  # left by a killed demo: nothing answers on it
    child = Child("redis", redis_server_argv(data_dir), data_dir / "logs" / "import-redis.log", dict(os.environ))
    child.start()
    try:
        _wait_up(url, child)
        yield url
    finally:
        child.stop()


# --- the command ---------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the export: .jsonl (one native case event per line) or .csv")
    parser.add_argument("--format", choices=("jsonl", "csv"), help="overrides the file name's extension")
    parser.add_argument("--encoding", default="utf-8-sig",
                        help="CSV only (default UTF-8, with or without a BOM); e.g. gb18030 for a Chinese Excel export")
    parser.add_argument("--batch", type=int, default=BATCH_LINES, help=f"lines per pipeline batch (default {BATCH_LINES})")


def city_zone(settings: Settings) -> tzinfo:
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {settings.timezone!r} (setting timezone / GRIDWALL_TZ)") from None


def print_report(path: Path, report: Report) -> None:
    for line, reason, detail in sorted(report.rejects):
        print(f"line {line}: {reason}: {detail}", file=sys.stderr)
    for line, case_id, detail in sorted(report.waiting):
        print(f"line {line}: waiting: case {case_id} has an incomplete history; kept until the events "
              f"before it are imported: {detail}", file=sys.stderr)
    for line, event_id in sorted(report.repeats):
        print(f"line {line}: duplicate: event {event_id} is already stored, identical", file=sys.stderr)
    lines_rejected = len({line for line, _r, _d in report.rejects})
    print(f"{path}: {report.lines} lines read, {report.applied} events applied, "
          f"{report.duplicates} duplicates, {lines_rejected} lines rejected, {len(report.waiting)} lines waiting")
    by_reason = Counter(reason for _l, reason, _d in report.rejects)
    if by_reason:
        print("rejected by reason: " + ", ".join(f"{reason} {n}" for reason, n in sorted(by_reason.items())))


def command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.batch < 1:
            raise UsageError("--batch must be at least 1")
        source = open_source(args.file, args.format, args.encoding, city_zone(settings))
    except UsageError as exc:
        print(f"gridwall import: {exc}", file=sys.stderr)
        return 2
    for warning in source.warnings:
        print(f"gridwall import: {warning}", file=sys.stderr)
    importer: Importer | None = None
    try:
        with redis_for(settings) as url:
            hot = HotStore(connect(url))
            db.upgrade(settings.resolved_database_url)
            engine = db.engine_for(settings.resolved_database_url)
            # A file's events wait for the end of the file, not case_park_s: the predecessor
            # may be thousands of lines further on. _give_up_waiting settles the rest.
            pipeline = build_pipeline(settings, engine, hot, case_park_s=math.inf)
            rebuild_if_empty(hot, engine, pipeline.cases)  # type: ignore[arg-type]  # as ingest, before writing
            importer = Importer(pipeline, args.batch)
            report = importer.run(source.items(Topics(pipeline.router)))
            Ticker(hot).tick()  # a running wall's counters show the import at once
    except (Stopped, *REDIS_DOWN, SQLAlchemyError, RuntimeError) as exc:
        if importer is not None:
            print_report(args.file, importer.report)
        log.debug("import failed", exc_info=True)
        print(f"gridwall import: {exc}", file=sys.stderr)
        if isinstance(exc, Stopped):
            print("the lines before it are stored; import the same file again to finish "
                  "(what landed counts as duplicates)", file=sys.stderr)
        return 3
    print_report(args.file, report)
    return 1 if (report.rejects or report.waiting) else 0
