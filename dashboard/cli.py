"""The `gridwall` command.

Commands that take messages in (ingest, simulate, decode) live in feeds/ and are imported only
when run, so the web side never loads the MQTT client.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from dashboard import supervision_config
from dashboard.config import Settings, load_settings

# The commands that run the supervision's rules: their [supervision] section is checked first.
CHECKS_SUPERVISION = ("demo", "ingest", "import")

Handler = Callable[[argparse.Namespace, Settings], int]


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.launcher import run_demo

    return run_demo(settings, simulate=not args.no_simulator, sim_args=args.sim_args)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.server import run

    return run(settings, workers=args.workers)


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.store import db

    db.upgrade(settings.resolved_database_url)
    print(f"schema is at head: {settings.resolved_database_url}")
    return 0


def _feeds(module: str) -> tuple[Callable[[argparse.ArgumentParser], None], Handler]:
    """A feeds command module's add_arguments(parser) and command(args, settings) -> exit code,
    imported on first use."""

    def add(parser: argparse.ArgumentParser) -> None:
        importlib.import_module(module).add_arguments(parser)

    def run(args: argparse.Namespace, settings: Settings) -> int:
        return int(importlib.import_module(module).command(args, settings))

    return add, run


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The feeds commands' own options are added only when that command is the one run, so
    `gridwall serve` never imports feeds/ (and with it paho)."""
    words = set(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="gridwall",
        description="gridwall: the command-center wall for digital urban management (数字城管).",
    )
    parser.add_argument("--config", type=Path, help="TOML config file (default: ./gridwall.toml, or GRIDWALL_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="run everything on this machine: broker, Redis, SQLite, simulator, ingest, web")
    p.add_argument("--no-simulator", action="store_true", help="do not start the demo-city simulator")
    p.add_argument("sim_args", nargs=argparse.REMAINDER, help="after --: options passed to `gridwall simulate`")
    p.set_defaults(handler=_demo)

    p = sub.add_parser("serve", help="run the Dash web server (gunicorn)")
    p.add_argument("--workers", type=int, help="gunicorn worker processes (default: GRIDWALL_WEB_WORKERS)")
    p.set_defaults(handler=_serve)

    p = sub.add_parser("migrate", help="create or upgrade the SQL schema (Alembic)")
    p.set_defaults(handler=_migrate)

    from dashboard import deadline

    p = sub.add_parser("deadline", help="when a case is due: deadline --start ISO --limit '4 工作时' [--urgent]")
    deadline.add_arguments(p)
    p.set_defaults(handler=deadline.command)

    from dashboard import rank_cmd

    p = sub.add_parser("rank", help="the evaluation ranking of a period: rank --by department --period month")
    rank_cmd.add_arguments(p)
    p.set_defaults(handler=rank_cmd.command)

    from dashboard import report_cmd

    p = sub.add_parser("report", help="the evaluation report of a period as PDF or XLSX: report --period month --format pdf")
    report_cmd.add_arguments(p)
    p.set_defaults(handler=report_cmd.command)

    from dashboard import access_cmd

    p = sub.add_parser("user", help="users: user add NAME --role ROLE | passwd NAME | disable NAME | list")
    access_cmd.add_user_arguments(p)
    p.set_defaults(handler=access_cmd.user_command)
    p = sub.add_parser("token", help="screen tokens: token create --role wall --name NAME | list | revoke ID")
    access_cmd.add_token_arguments(p)
    p.set_defaults(handler=access_cmd.token_command)
    p = sub.add_parser("audit", help="the audit log: who signed in, failed, acted, from where")
    access_cmd.add_audit_arguments(p)
    p.set_defaults(handler=access_cmd.audit_command)

    for name, module, help_text in (
        ("ingest", "feeds.ingest", "run an ingest worker: MQTT -> decode -> validate -> store"),
        ("simulate", "feeds.simulator.command", "publish the demo city's GPS, video alerts and cases over MQTT"),
        ("decode", "feeds.decode_cmd", "show what gridwall makes of one payload: decode <topic> <file>"),
        ("import", "feeds.import_cmd", "load a case-event export (.jsonl or .csv) through the ingest pipeline"),
        ("deadletters", "feeds.deadletters_cmd", "the refused messages: deadletters list|show ID|replay (after a fix)"),
    ):
        add, run = _feeds(module)
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(handler=run)
        if name in words:
            add(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "sim_args", None) and args.sim_args[:1] == ["--"]:
        args.sim_args = args.sim_args[1:]
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migration chatter at every start
    settings = load_settings(args.config)
    if args.command in CHECKS_SUPERVISION:
        # A zone file that does not parse must stop the start with its reason, here, rather than
        # as a traceback in an ingest process the demo started (docs/supervision.md).
        try:
            supervision_config.from_settings(settings)
        except supervision_config.SupervisionConfigError as exc:
            print(f"gridwall: the configuration's {exc}", file=sys.stderr)
            return 2
    return int(args.handler(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())
