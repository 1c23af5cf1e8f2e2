"""The ``marketpulse`` command. Heavy imports stay inside the commands that need them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import orjson

from marketpulse.errors import MarketPulseError
from marketpulse.settings import get_settings


def _config_show(_args: argparse.Namespace) -> int:
    print(orjson.dumps(get_settings().masked(), option=orjson.OPT_INDENT_2).decode())
    return 0


def _services(args: argparse.Namespace) -> int:
    from marketpulse.services import stack

    settings = get_settings()
    if args.action == "up":
        stack.up(settings)
    elif args.action == "down":
        stopped = stack.down(settings)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing (none was started by us)"))
    else:
        unhealthy = 0
        for st in stack.status(settings):
            health = "healthy" if st.healthy else "DOWN"
            owner = "started by marketpulse" if st.managed else "external"
            print(f"{st.name:9} {st.address:22} {health:8} {owner}")
            unhealthy += not st.healthy
        return 1 if unhealthy else 0
    return 0


def _worker(args: argparse.Namespace) -> int:
    from marketpulse.runner import run_worker

    return run_worker(args.loglevel)


def _up(_args: argparse.Namespace) -> int:
    from marketpulse.runner import run_all

    return run_all(get_settings())


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="marketpulse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    config = sub.add_parser("config", help="show the effective settings")
    config.add_argument("action", choices=["show"])
    config.set_defaults(func=_config_show)

    services = sub.add_parser("services", help="start, stop or check the local services")
    services.add_argument("action", choices=["up", "down", "status"])
    services.set_defaults(func=_services)

    worker = sub.add_parser("worker", help="run one Faust worker")
    worker.add_argument("--loglevel", default="info")
    worker.set_defaults(func=_worker)

    up = sub.add_parser("up", help="services, worker and API until Ctrl-C")
    up.set_defaults(func=_up)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MarketPulseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
