"""`gridwall serve`: the Dash app under gunicorn, the same way in the demo and in production."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from dashboard.config import Settings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Imported in each worker after the fork, so no Redis or DB connection crosses it.
        from dashboard.wsgi import server

        return server


def _warm_up(worker: Any) -> None:
    """One request through the worker's own app before it takes connections: Dash sets itself
    up on the first request, and several threads doing that at once can leave a worker whose
    every component bundle answers 500 (plotly/dash#3971) until it is restarted."""
    with worker.wsgi.test_client() as client:
        client.get("/")


def run(settings: Settings, workers: int | None = None) -> int:
    _Gunicorn(
        {
            "bind": f"{settings.host}:{settings.port}",
            "workers": workers or settings.web_workers,
            # Threads: a callback mostly waits on Redis, and a wall polls every second.
            "worker_class": "gthread",
            "threads": 8,
            "timeout": 60,
            "graceful_timeout": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "gridwall-web",
            "post_worker_init": _warm_up,
        }
    ).run()
    return 0
