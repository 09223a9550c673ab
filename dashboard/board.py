"""The wall's board: everything around the map (today's counts, the overdue counters, the
rankings, the alert ticker, the rotating side views), as one JSON document.

An ingest worker computes it about once a second (feeds/steps/board.py) and stores it only when
it changed; each screen reads it with one small Redis GET per tick (``board_payload``) and the
browser writes it into the page in place (assets/gridwall-panels.js). Nothing is computed per
client. The document's fields are described in docs/wall.md.

Keys (hash tag {gw} as in dashboard/store/hot.py):
  {gw}:snap:board        STR  the board, JSON
  {gw}:snap:board:ver    INT  bumped each time the board's JSON changes
  {gw}:board:base:<day>  STR  JSON: the overdue counts at the first tick of that local day (the
                              change since the start of the day is counted from it)
  {gw}:board:hourly      STR  JSON: today's reports and closures by local hour, read from SQL at
                              most once a minute
  {gw}:board:lock        STR  the worker computing the board this second (NX, short TTL)
"""

from __future__ import annotations

from typing import Any

import redis

P = "{gw}"
BOARD = f"{P}:snap:board"
BOARD_VER = f"{P}:snap:board:ver"
BOARD_HOURLY = f"{P}:board:hourly"
BOARD_LOCK = f"{P}:board:lock"
BASE_TTL_S = 3 * 86400


def base_key(day: str) -> str:
    return f"{P}:board:base:{day}"


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


def board_payload(client: redis.Redis, client_version: int | None) -> tuple[str, int] | None:
    """The board as a JSON string the browser parses itself, with its version; None when the
    screen already has this version or there is no board yet (no ingest worker ran)."""
    raw = client.get(BOARD_VER)
    if raw is None:
        return None
    version = int(raw)  # type: ignore[arg-type]
    if version == client_version:
        return None
    body = client.get(BOARD)
    return None if body is None else (body.decode(), version)  # type: ignore[union-attr]


def register(app: Any, client: redis.Redis) -> None:
    """The board's callbacks: one Redis read per screen per tick, the rest in the browser."""
    from dash import Input, Output, State, no_update

    @app.callback(
        Output("gw-board", "data"),
        Output("gw-board-ver", "data"),
        Input("gw-tick", "n_intervals"),
        State("gw-board-ver", "data"),
    )
    def _board(_n: int, version: int | None) -> tuple[Any, Any]:
        result = board_payload(client, version)
        return (no_update, no_update) if result is None else result

    app.clientside_callback(
        "function(d){ return window.gridwall.panels.apply(d); }",
        Output("gw-board-applied", "data"),
        Input("gw-board", "data"),
    )
    # The charts: a figure only when its data changed, so dcc.Graph runs Plotly.react (in
    # place, no flicker) at most once a minute for the hours and when the categories change.
    app.clientside_callback(
        "function(d){ return window.gridwall.panels.figures(d); }",
        Output("gw-chart-hourly", "figure"),
        Output("gw-chart-cats", "figure"),
        Input("gw-board", "data"),
    )
