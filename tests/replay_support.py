"""What the replay's tests and its benchmark share: a position history made by the demo city's
simulator (feeds/simulator/: vehicles on the road graph, muck trucks at night, collectors on
foot), written as ingest writes it (dashboard/store/history_writer.py: the ``position`` rows
and the ``device`` rows), and a client that asks the replay's route as a browser does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Engine

from dashboard.city.model import load_city
from dashboard.config import ASSETS_DIR
from dashboard.records import Position
from dashboard.store.history_writer import HistoryWriter, device_row
from feeds.simulator.world import SimConfig, World

CITY = load_city(ASSETS_DIR / "city")


def simulated_positions(start: float, seconds: float, vehicles: int, collectors: int = 0, every_s: float = 10.0,
                        seed: int = 5) -> list[Position]:
    """Every fix the simulator's devices send from ``start`` for ``seconds``: one per device
    every ``every_s`` (parked ones too), as decoded fixes."""
    world = World(CITY, SimConfig(seed=seed, collectors=collectors, vehicles=vehicles, vehicle_interval=every_s,
                                  collector_interval=every_s, parked_interval=every_s, cases_per_day=1,
                                  backfill_days=0, cameras=0), start)
    out: list[Position] = []
    steps = int(seconds // every_s)
    for k in range(1, steps + 1):
        for m in world.advance(start + k * every_s):
            if m.kind != "gps":
                continue
            p = m.payload
            out.append(Position(p["id"], p["kind"], p["lat"], p["lon"], p["ts"], subtype=p.get("subtype"),
                                speed=p.get("speed"), heading=p.get("heading"), accuracy=p.get("accuracy"),
                                battery=p.get("battery"), status=p.get("status"), name=p.get("name"),
                                department=p.get("department")))
    return out


def write_history(engine: Engine, positions: Sequence[Position], batch: int = 20_000) -> None:
    """The positions and their devices' rows, as the store step writes them (in batches, as
    ingest's transactions are)."""
    writer = HistoryWriter(engine)
    devices = {p.device_id: device_row(p) for p in positions}
    for i in range(0, len(positions), batch):
        writer.write(positions=positions[i:i + batch], devices=list(devices.values()) if i == 0 else ())


def by_device(positions: Sequence[Position], start: float, end: float) -> dict[str, list[Position]]:
    """The history as SQL holds it for a window: each device's fixes with start <= ts <= end, in time order."""
    out: dict[str, list[Position]] = {}
    for p in sorted(positions, key=lambda p: (p.device_id, p.ts)):
        if start <= p.ts <= end:
            out.setdefault(p.device_id, []).append(p)
    return out


class Client:
    """A browser's view of the replay's route: a token, JSON back."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.c = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **args: Any) -> tuple[int, dict[str, Any]]:
        resp = self.c.get(path, query_string=args, headers=self.headers)
        return resp.status_code, orjson.loads(resp.data) if resp.data[:1] == b"{" else {}
