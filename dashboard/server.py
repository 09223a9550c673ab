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
        }
    ).run()
    return 0
