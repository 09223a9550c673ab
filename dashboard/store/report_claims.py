"""Who writes a scheduled evaluation report (dashboard/reports/schedule.py): several ingest
workers see a period close at the same moment, and exactly one of them may write its report.

A claim is a ``SET NX`` with an expiry: the worker that sets it writes the files; if it dies
while writing, the claim expires and another worker takes it over. Once the files are written
the claim is marked ``done`` for long enough that nobody writes them again.
"""

from __future__ import annotations

from typing import Any

from dashboard.store.keys import report_claim_key

DONE = "done"
# Give a claim back only if it is still ours (it may have expired and been taken over).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class ReportClaims:
    def __init__(self, client: Any) -> None:
        self.r = client
        self._release = client.register_script(_RELEASE)

    def claim(self, name: str, worker: str, ttl_s: float) -> bool:
        """True for the one worker that may write report ``name`` now."""
        return bool(self.r.set(report_claim_key(name), worker, nx=True, px=max(1, int(ttl_s * 1000))))

    def done(self, name: str, keep_s: float) -> None:
        self.r.set(report_claim_key(name), DONE, px=max(1, int(keep_s * 1000)))

    def release(self, name: str, worker: str) -> None:
        """The writing failed: another worker (or this one, later) may try."""
        self._release(keys=[report_claim_key(name)], args=[worker])

    def state(self, name: str) -> str | None:
        """None (nobody has it), DONE, or the id of the worker writing it."""
        value = self.r.get(report_claim_key(name))
        return value.decode() if isinstance(value, bytes) else value


def report_claims(hot: Any) -> ReportClaims:
    """The claims on the same Redis client as a HotStore."""
    return ReportClaims(hot.r)
