"""WSGI entry point for gunicorn: ``gunicorn dashboard.wsgi:server``.

Settings come from the environment and ./gridwall.toml (or GRIDWALL_CONFIG), as for the CLI.
"""

from dashboard.app import create_app

app = create_app()
server = app.server
