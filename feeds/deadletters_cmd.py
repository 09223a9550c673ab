"""``gridwall deadletters list|show|replay``: the refused messages, for an operator
(docs/deadletters.md).

- ``list [--feed F] [--reason R] [--limit N] [--all]``: the newest letters as a table, then how
  many of each feed and reason are kept. Replayed letters only with ``--all``.
- ``show ID``: one letter whole; the payload as text when it is UTF-8, else in hex.
- ``replay ID ... | --feed F | --reason R``: the letters go through the same pipeline ingest runs
  (feeds.ingest.build_pipeline, as `gridwall import` does), oldest first, after the sender or
  the configuration was fixed. Each is marked replayed; one refused again becomes a new dead
  letter with the reason it has now. One line per letter says what became of it.

Exit codes: 0 all is well; 1 some letter was refused again, waits for a predecessor or was not
found; 2 usage; 3 Redis or the database failed (what was replayed before it stays replayed).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, tzinfo
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from dashboard.config import Settings
from dashboard.store import db
from dashboard.store.deadletters import DeadLetter, DeadLetterStore
from dashboard.store.failures import transient
from dashboard.store.hot import REDIS_DOWN, HotStore, connect
from feeds.import_cmd import UsageError, city_zone, redis_for
from feeds.ingest import build_pipeline
from feeds.pipeline import BatchResult, Message, Pipeline
from feeds.rebuild import rebuild_if_empty
from feeds.rejects import store_failed
from feeds.steps.publish import Ticker

log = logging.getLogger("gridwall.deadletters")

BATCH = 200  # letters per pipeline batch (payloads up to max_payload_bytes each)
DETAIL_WIDTH = 100  # the list's detail column, in terminal cells
TOPIC_WIDTH = 48


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="deadletters", required=True, metavar="list|show|replay")
    p = sub.add_parser("list", help="the newest dead letters, and how many of each feed and reason are kept")
    p.add_argument("--feed", help="only this feed (gps, video, case)")
    p.add_argument("--reason", help="only this reason (invalid_json, outside_city, ...)")
    p.add_argument("--limit", type=int, default=50, help="how many letters to list (default 50)")
    p.add_argument("--all", action="store_true", help="the letters already replayed too")
    p = sub.add_parser("show", help="one dead letter whole, payload included")
    p.add_argument("id", type=int)
    p = sub.add_parser("replay", help="take dead letters through the ingest pipeline again (after a fix)")
    p.add_argument("ids", type=int, nargs="*", metavar="ID", help="these letters (even if replayed before)")
    p.add_argument("--feed", help="every letter of this feed not replayed yet")
    p.add_argument("--reason", help="every letter of this reason not replayed yet")


def command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        zone = city_zone(settings)
        if args.deadletters == "list" and args.limit < 1:
            raise UsageError("--limit must be at least 1")
        if args.deadletters == "replay":
            if args.ids and (args.feed or args.reason):
                raise UsageError("give IDs, or --feed/--reason, not both")
            if not (args.ids or args.feed or args.reason):
                raise UsageError("name the letters to replay: IDs, --feed F or --reason R (see `deadletters list`)")
    except UsageError as exc:
        print(f"gridwall deadletters: {exc}", file=sys.stderr)
        return 2
    try:
        if args.deadletters == "list":
            return list_letters(_store(settings), zone, args.feed, args.reason, args.limit, args.all)
        if args.deadletters == "show":
            return show_letter(_store(settings), zone, args.id)
        return replay(settings, zone, args.ids, args.feed, args.reason)
    except (*REDIS_DOWN, SQLAlchemyError, RuntimeError) as exc:
        log.debug("deadletters failed", exc_info=True)
        print(f"gridwall deadletters: {exc}", file=sys.stderr)
        return 3


def _store(settings: Settings) -> DeadLetterStore:
    url = settings.resolved_database_url
    db.upgrade(url)
    return DeadLetterStore(db.engine_for(url), settings.dead_letter_max)


# --- list and show ----------------------------------------------------------------------------


def local_time(ts: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(ts, zone).strftime("%Y-%m-%d %H:%M:%S")


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, width: int) -> str:
    text = " ".join(text.split())  # a detail may quote a payload's newlines
    if cells(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        used += cells(ch)
        if used > width - 1:
            break
        out.append(ch)
    return "".join(out) + "…"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()) -> list[str]:
    """Columns padded to their widest cell (numbers, ``right``, aligned right); a last column
    aligned left is not padded."""
    widths = [max(cells(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = []
    for row in (header, *rows):
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - cells(cell)) if i < len(row) - 1 or i in right else ""
            parts.append(pad + cell if i in right else cell + pad)
        lines.append("  ".join(parts).rstrip())
    return lines


def list_letters(store: DeadLetterStore, zone: tzinfo, feed: str | None, reason: str | None, limit: int,
                 include_replayed: bool, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    letters = store.list(feed, reason, limit, include_replayed)
    counts = store.summary()
    matching = sum(c.waiting + (c.replayed if include_replayed else 0) for c in counts
                   if feed in (None, c.feed) and reason in (None, c.reason))
    which = "".join(f" {k} {v}" for k, v in (("feed", feed), ("reason", reason)) if v)
    if letters:
        header = ["id", f"time ({getattr(zone, 'key', zone)})", "feed", "reason", "topic", "size", "detail"]
        rows = []
        for d in letters:
            row = [str(d.id), local_time(d.at, zone), d.feed, d.reason, clip(d.topic, TOPIC_WIDTH), str(d.size),
                   clip(d.detail, DETAIL_WIDTH)]
            if include_replayed:
                row.insert(6, local_time(d.replayed_at, zone) if d.replayed_at is not None else "-")
            rows.append(row)
        if include_replayed:
            header.insert(6, "replayed")
        for line in table(header, rows, frozenset({0, 5})):
            print(line, file=out)
        if matching > len(letters):
            print(f"(the newest {len(letters)} of {matching}; --limit N for more)", file=out)
    else:
        state = "" if include_replayed else " waiting"
        print(f"no dead letters{state}{' of' + which if which else ''}", file=out)
    if counts:
        waiting = sum(c.waiting for c in counts)
        replayed = sum(c.replayed for c in counts)
        bound = f"; the newest ~{store.maxlen} are kept (dead_letter_max)" if store.maxlen else ""
        print(f"\nkept: {waiting} waiting, {replayed} replayed{bound}", file=out)
        rows = [[c.feed, c.reason, str(c.waiting), str(c.replayed)] for c in counts]
        for line in table(["feed", "reason", "waiting", "replayed"], rows, frozenset({2, 3})):
            print(line, file=out)
    return 0


def payload_text(payload: bytes) -> tuple[str, str]:
    """(how it is shown, the text): UTF-8 as it is, anything else as a hex dump."""
    try:
        return "UTF-8", payload.decode("utf-8")
    except UnicodeDecodeError:
        lines = [f"{i:08x}  {payload[i:i + 16].hex(' ')}" for i in range(0, len(payload), 16)]
        return "hex, not UTF-8", "\n".join(lines)


def show_letter(store: DeadLetterStore, zone: tzinfo, letter_id: int, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    d = store.get(letter_id)
    if d is None:
        print(f"gridwall deadletters: no dead letter {letter_id} (deleted by the bound, or never kept)", file=sys.stderr)
        return 1
    replayed = "no" if d.replayed_at is None else local_time(d.replayed_at, zone)
    fields = [("id", str(d.id)), ("time", f"{local_time(d.at, zone)} ({getattr(zone, 'key', zone)})"),
              ("feed", d.feed), ("reason", d.reason), ("detail", d.detail), ("topic", d.topic),
              ("event_id", d.event_id or "-"), ("size", f"{d.size} bytes"), ("replayed", replayed)]
    for name, value in fields:
        print(f"{name:<9} {value}", file=out)
    how, text = payload_text(d.payload)
    print(f"payload ({how}):", file=out)
    print(text, file=out)
    return 0


# --- replay -------------------------------------------------------------------------------------


class Replayer:
    """Takes letters through the pipeline a batch at a time and says what became of each.
    Uses only the pipeline's public interface: handle, refuse and retry_now."""

    def __init__(self, pipeline: Pipeline, store: DeadLetterStore, ticker: Ticker, out: TextIO) -> None:
        self.pipeline = pipeline
        self.store = store
        self.ticker = ticker
        self.out = out
        self.outcomes: Counter[str] = Counter()  # stored, duplicate, refused, waiting
        self.waiting: dict[str, DeadLetter] = {}  # parked case event id -> the letter it came in

    def run(self, pages: Iterator[Sequence[DeadLetter]]) -> Counter[str]:
        for page in pages:
            for i in range(0, len(page), BATCH):
                self._store(list(page[i:i + BATCH]))
        self._retry_waiting()
        return self.outcomes

    def _store(self, letters: list[DeadLetter]) -> None:
        messages = [Message(d.topic, d.payload, time.time(), qos=1) for d in letters]
        try:
            result = self.pipeline.handle(messages)
        except Exception as exc:
            if transient(exc):
                raise
            # A letter the database will not take (as ingest finds one): by halves.
            if len(letters) > 1:
                half = len(letters) // 2
                self._store(letters[:half])
                self._store(letters[half:])
                return
            self._refuse(letters[0], messages[0], exc)
            return
        self.ticker.note_result(result)
        self._report(letters, messages, result)
        self.store.mark_replayed([d.id for d in letters], time.time())

    def _refuse(self, letter: DeadLetter, msg: Message, exc: Exception) -> None:
        refusal = store_failed(exc)
        detail = refusal.detail
        self.pipeline.refuse([(msg, refusal)])
        self.store.mark_replayed([letter.id], time.time())
        self._say(letter, f"refused again: store_failed: {detail} (a new dead letter)", "refused")

    def _report(self, letters: list[DeadLetter], messages: list[Message], result: BatchResult) -> None:
        refused: dict[int, list[str]] = {}
        for r in result.refusals:
            refused.setdefault(id(r.message), []).append(f"{r.reason}: {r.detail}")
        letter_of = {id(m): d for m, d in zip(messages, letters, strict=True)}
        parked: dict[int, list[str]] = {}
        for event, msg in result.parked:
            if msg is not None and id(msg) in letter_of:
                parked.setdefault(id(msg), []).append(event.case_id)
                self.waiting[event.event_id] = letter_of[id(msg)]
        repeats = {id(msg): event_id for msg, event_id in result.repeats if msg is not None}
        for letter, msg in zip(letters, messages, strict=True):
            key = id(msg)
            if key in refused:
                self._say(letter, f"refused again: {'; '.join(refused[key])} (a new dead letter)", "refused")
            elif key in parked:
                self._say(letter, f"waiting: case {', '.join(parked[key])} lacks the events before it; "
                                  "kept, it applies when they come", "waiting")
            elif key in repeats:
                self._say(letter, f"duplicate: event {repeats[key]} is already stored, identical", "duplicate")
            else:
                self._say(letter, "stored", "stored")

    def _retry_waiting(self) -> None:
        """A case event that waited for a predecessor replayed after it: tried again, round after
        round, while any applies (without this it would wait for an ingest worker's retry)."""
        while self.waiting:
            retried = dict(self.waiting)
            self.waiting.clear()
            settled: dict[str, str] = {}
            for result in self.pipeline.retry_now(retried):
                self.ticker.note_result(result)
                still = [e for e, _m in result.parked] + [e for e, _m, _d in result.incomplete]
                self.waiting.update({e.event_id: retried[e.event_id] for e in still if e.event_id in retried})
                for r in result.refusals:
                    if r.event_id in retried:
                        settled[r.event_id] = f"refused again: {r.reason}: {r.detail} (a new dead letter)"
                for _msg, event_id in result.repeats:
                    if event_id in retried:
                        settled.setdefault(event_id, f"duplicate: event {event_id} is already stored, identical")
            applied = [e for e in retried if e not in self.waiting and e not in settled]
            for event_id, text in settled.items():
                self._say(retried[event_id], text, "refused" if text.startswith("refused") else "duplicate",
                          was="waiting")
            for event_id in applied:
                self._say(retried[event_id], "stored (after the events before it)", "stored", was="waiting")
            if not applied:
                return  # what still waits does not get its predecessor from this replay

    def _say(self, letter: DeadLetter, text: str, outcome: str, was: str | None = None) -> None:
        if was is not None:
            self.outcomes[was] -= 1
        self.outcomes[outcome] += 1
        print(f"#{letter.id} {letter.feed} {letter.reason} {letter.topic}: {text}", file=self.out)


def replay(settings: Settings, zone: tzinfo, ids: Sequence[int], feed: str | None, reason: str | None,
           out: TextIO | None = None) -> int:
    out = out or sys.stdout
    store = _store(settings)
    missing = 0
    if ids:
        letters = []
        for letter_id in dict.fromkeys(ids):
            d = store.get(letter_id)
            if d is None:
                missing += 1
                print(f"#{letter_id}: no such dead letter (deleted by the bound, or never kept)", file=out)
            else:
                if d.replayed_at is not None:
                    print(f"#{d.id}: replayed before, at {local_time(d.replayed_at, zone)}; again", file=out)
                letters.append(d)
        pages: Iterator[Sequence[DeadLetter]] = iter([sorted(letters, key=lambda d: d.id)] if letters else [])
    else:
        newest = store.list(feed, reason, limit=1)
        pages = _pages(store, feed, reason, newest[0].id) if newest else iter([])
    with redis_for(settings) as url:
        hot = HotStore(connect(url))
        engine = store.engine
        pipeline = build_pipeline(settings, engine, hot)
        rebuild_if_empty(hot, engine, pipeline.cases)  # type: ignore[arg-type]  # as ingest, before writing
        ticker = Ticker(hot)
        outcomes = Replayer(pipeline, store, ticker, out).run(pages)
        ticker.tick()  # a running wall shows what was stored at once
    total = sum(outcomes.values())
    if not total and not missing:
        print("nothing to replay: no dead letter waiting" + "".join(f" {k} {v}" for k, v in
                                                                    (("feed", feed), ("reason", reason)) if v), file=out)
        return 0
    print(f"replayed {total}: {outcomes['stored']} stored, {outcomes['duplicate']} duplicates, "
          f"{outcomes['refused']} refused again, {outcomes['waiting']} waiting"
          + (f"; {missing} not found" if missing else ""), file=out)
    return 1 if (outcomes["refused"] or outcomes["waiting"] or missing) else 0


def _pages(store: DeadLetterStore, feed: str | None, reason: str | None, through_id: int) -> Iterator[Sequence[DeadLetter]]:
    after = 0
    while page := store.oldest(feed, reason, after_id=after, through_id=through_id):
        yield page
        after = page[-1].id
