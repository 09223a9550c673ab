"""The wall's board: everything around the map (today's counts, the overdue counters, the
rankings, the alert ticker, the rotating side views), as one JSON document.

An ingest worker computes it about once a second (feeds/steps/board.py) and stores it only when
it changed; each screen's poll reads it with one small Redis GET (``board_payload``, called by
dashboard/poll.py) and the browser writes it into the page in place (assets/gridwall-panels.js).
Nothing is computed per client. The document's fields are described in docs/wall.md.

Keys: dashboard/store/keys.py (BOARD_*).
"""

from __future__ import annotations

import redis

from dashboard.store.keys import BOARD, BOARD_VER, board_base_key

BASE_TTL_S = 3 * 86400


base_key = board_base_key


# Store the board only when it changed, and bump the version screens poll in the same step.
_PUBLISH_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
redis.call('SET', KEYS[1], ARGV[1])
return redis.call('INCR', KEYS[2])
"""


def publish_board(client: redis.Redis, body: bytes) -> int:
    """Store the board's JSON; returns its version (unchanged when the JSON is the same)."""
    return int(client.eval(_PUBLISH_LUA, 2, BOARD, BOARD_VER, body))  # type: ignore[arg-type]


def board_payload(client: redis.Redis, client_version: int | None) -> tuple[bytes, int] | None:
    """The board as JSON the browser parses itself, with its version; None when the
    screen already has this version or there is no board yet (no ingest worker ran)."""
    raw = client.get(BOARD_VER)
    if raw is None:
        return None
    version = int(raw)  # type: ignore[arg-type]
    if version == client_version:
        return None
    body = client.get(BOARD)
    return None if body is None else (body, version)  # type: ignore[return-value]
