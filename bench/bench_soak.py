"""The soak as a benchmark: hours of mixed traffic through `gridwall ingest` and `gridwall serve`
on the production stack (mosquitto as deployed, Redis 7, PostgreSQL, all started here on free
ports), walls polling /wall/poll, and the resident memory of ingest, web and Redis over time.

The traffic and the run are tests/soak.py's, the same as tests/integration/test_soak.py runs for
five minutes in CI: mostly QoS 0 GPS fixes from a few thousand devices, a few QoS 1 video
alerts and case lifecycles a second, from publisher processes of their own. The publishers'
achieved rate is measured, not assumed.

Prints one JSON document: the plan (duration, target rate, warm-up), what was sent and the
achieved rate, the PUBACK codes, the case events accepted and stored, the walls' polls, the RSS
samples over time per process, and the growth of each from the end of the warm-up to the end.
A line per sample goes to stderr while it runs.

Usage: python bench/bench_soak.py [--duration-s 7200] [--rate 5000] [--warmup-s 150] [--sample-s 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import servers  # noqa: E402 - the same real servers the tests start
from soak import SEEN_TTL_S, Sample, SoakPlan, run_soak  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration-s", type=float, default=7200.0)
    parser.add_argument("--rate", type=float, default=5000.0, help="target messages a second, every kind together")
    parser.add_argument("--warmup-s", type=float, default=SEEN_TTL_S + 150.0,
                        help="growth is measured from here: once the dedupe marks' window (15 min) is full")
    parser.add_argument("--sample-s", type=float, default=30.0)
    parser.add_argument("--devices", type=int, default=3000)
    parser.add_argument("--walls", type=int, default=4)
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    args = parser.parse_args()
    out: dict[str, Any] = {
        "benchmark": "soak",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    missing = servers.production_missing()
    if missing:
        out["skipped"] = f"missing {missing}"
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return
    plan = SoakPlan(duration_s=args.duration_s, rate=args.rate, warmup_s=min(args.warmup_s, args.duration_s / 2),
                    devices=args.devices, walls=args.walls, sample_s=args.sample_s, publishers=args.publishers)

    def progress(s: Sample) -> None:
        print(f"t={s.t:7.0f} s  ingest {s.ingest / 2**20:7.1f} MiB  web {s.web / 2**20:7.1f} MiB  "
              f"redis {s.redis / 2**20:7.1f} MiB (used {s.redis_used_memory / 2**20:.1f})", file=sys.stderr, flush=True)

    result = run_soak(plan, Path(tempfile.mkdtemp(prefix="bench-soak-")), progress)
    out.update(result.to_json())
    out["summary"] = result.summary()
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
