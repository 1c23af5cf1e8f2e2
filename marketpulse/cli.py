"""The ``marketpulse`` command. Heavy imports stay inside the commands that need them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import orjson

from marketpulse.errors import MarketPulseError
from marketpulse.settings import get_settings

if TYPE_CHECKING:
    from marketpulse.files.ohlcv import OhlcvSeries
    from marketpulse.storage.repositories.users import UserRepository

DEFAULT_SYMBOLS = "AAPL,MSFT,AMZN,GOOGL,TSLA"


def _config(args: argparse.Namespace) -> int:
    if args.action == "docs":
        from marketpulse.settings_reference import reference

        print(reference(), end="")
    else:
        print(orjson.dumps(get_settings().masked(), option=orjson.OPT_INDENT_2).decode())
    return 0


def _schemas(_args: argparse.Namespace) -> int:
    from marketpulse.schemas.export import export

    for path in export():
        print(f"wrote {path}")
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
    from marketpulse.launch import run_worker

    return run_worker(get_settings(), args.loglevel)


def _api(_args: argparse.Namespace) -> int:
    import uvicorn

    from marketpulse.api.main import log_config, server_options

    settings = get_settings()
    uvicorn.run(
        "marketpulse.api.main:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=settings.api_workers,
        loop="uvloop",
        log_config=log_config(),
        **server_options(settings),
    )
    return 0


def _user(args: argparse.Namespace) -> int:
    import asyncio

    from marketpulse.storage.postgres import create_pool
    from marketpulse.storage.repositories.users import LastAdmin, UserRepository

    roles = sorted(set(args.role))

    async def run() -> tuple[int, str]:
        pool = await create_pool(get_settings(), max_size=1)
        try:
            users = UserRepository(pool)
            if args.action == "add":
                return 0, await _add_user(users, args.username, args.email, roles)
            found = await users.by_username(args.username)
            if found is None:
                return 1, f"no user {args.username}"
            try:
                changed = await users.set_roles(found.user_id, roles)
            except LastAdmin as exc:
                return 1, f"refused: {exc}"
            assert changed is not None  # noqa: S101 - found just above, users are not deleted
            return 0, f"{changed.username} now has roles {', '.join(changed.roles)}"
        finally:
            await pool.close()

    code, message = asyncio.run(run())
    print(message, file=sys.stdout if code == 0 else sys.stderr)
    return code


async def _add_user(
    users: UserRepository, username: str, email: str | None, roles: list[str]
) -> str:
    import getpass
    import os

    from marketpulse.api.security import hash_password

    if email is None:
        raise SystemExit("user add needs --email")
    password = os.environ.get("MARKETPULSE_NEW_USER_PASSWORD") or getpass.getpass("password: ")
    user = await users.create(
        username, email, hash_password(password, get_settings().bcrypt_rounds), roles
    )
    return f"created {user.username} ({user.user_id}) with roles {', '.join(user.roles)}"


def _symbols(text: str) -> list[str]:
    return [s.strip().upper() for s in text.split(",") if s.strip()]


def _source(args: argparse.Namespace) -> int:
    import asyncio

    settings = get_settings()
    symbols = _symbols(args.symbols)
    if args.kind == "synthetic":
        from marketpulse.streams.sources.synthetic import SyntheticRun, run_synthetic

        rate = None if args.rate == "max" else float(args.rate)
        run = SyntheticRun(symbols, args.seed, rate, args.frame_size, args.duration, args.events,
                           args.workers, args.history_days * 86_400)  # fmt: skip
        published = asyncio.run(run_synthetic(settings, run))
        print(f"published {published} events", file=sys.stderr)
    elif args.kind == "polygon":
        from marketpulse.streams.sources.vendor import stream_polygon

        channels = [c.strip() for c in args.channels.split(",") if c.strip()]
        asyncio.run(stream_polygon(settings, symbols, channels, args.frame_size))
    else:
        from marketpulse.streams.sources.vendor import poll_news

        asyncio.run(poll_news(settings, args.provider, symbols, args.interval))
    return 0


def _ingest(args: argparse.Namespace) -> int:
    import asyncio
    import datetime as dt

    from marketpulse.streams.sources.vendor import Backfill, backfill

    request = Backfill(
        args.provider, _symbols(args.symbols), dt.date.fromisoformat(args.start),
        dt.date.fromisoformat(args.end), args.data, args.granularity, args.adjusted,
    )  # fmt: skip
    job = asyncio.run(backfill(get_settings(), request))
    print(f"job {job.job_id} {job.status}: {job.records_processed} records, "
          f"{job.errors_count} errors", file=sys.stderr)  # fmt: skip
    return 0 if job.status == "succeeded" else 1


def _indicators(args: argparse.Namespace) -> int:
    from marketpulse.analytics.indicators.registry import catalog, expand
    from marketpulse.files.long_csv import indicator_rows

    if args.catalog:
        sys.stdout.write(orjson.dumps(catalog(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    if not (args.input and args.output):
        print("error: --input and --output are required (or --catalog)", file=sys.stderr)
        return 2
    specs = expand(args.indicators.split(",")) if args.indicators else get_settings().indicators
    return _batch(args, "indicator", 30, lambda series: indicator_rows(series, specs))


def _patterns(args: argparse.Namespace) -> int:
    from marketpulse.analytics.patterns.candlestick import REGISTRY
    from marketpulse.files.long_csv import pattern_rows

    names = args.patterns.split(",") if args.patterns else None
    unknown = sorted(set(names or []) - set(REGISTRY))
    if unknown:
        print(f"error: unknown patterns: {', '.join(unknown)}; known: cdl* names, e.g. "
              "cdlengulfing (see docs/pipeline.md)", file=sys.stderr)  # fmt: skip
        return 2
    return _batch(args, "pattern", len(REGISTRY), lambda series: pattern_rows(series, names))


def _batch(
    args: argparse.Namespace,
    column: str,
    per_bar: int,
    rows_of: Callable[[OhlcvSeries], Iterable[list[str]]],
) -> int:
    """Read an OHLCV file, write ``timestamp,symbol,<column>,value`` long CSV. A bad row is
    reported on stderr and skipped (exit status 1 when any was), or with ``--strict`` stops the
    command (status 2, as for any input error)."""
    from pathlib import Path

    from marketpulse.files.long_csv import progress, write_long_csv
    from marketpulse.files.ohlcv import read_ohlcv

    refused: list[str] | None = None if args.strict else []
    series_list = read_ohlcv(Path(args.input), args.symbol, refused)
    for problem in refused or []:
        print(f"skipped: {problem}", file=sys.stderr)
    bars = sum(len(s) for s in series_list)
    rows = (row for series in series_list for row in rows_of(series))
    output = Path(args.output) if args.output != "-" else None
    count = write_long_csv(
        output,
        ["timestamp", "symbol", column, "value"],
        progress(rows, bars * per_bar, f"{column}s"),
    )
    skipped = f", {len(refused)} rows skipped" if refused else ""
    print(f"{bars} bars, {count} values -> {args.output}{skipped}", file=sys.stderr)
    return 1 if refused else 0


def _bars(args: argparse.Namespace) -> int:
    from pathlib import Path

    from marketpulse.analytics.granularity import parse_granularity
    from marketpulse.analytics.sessions import SessionTable
    from marketpulse.files.bar_files import HEADER, bar_rows
    from marketpulse.files.long_csv import progress, write_long_csv
    from marketpulse.files.ohlcv import InputError, read_table

    try:  # a bad granularity, calendar or condition table stops here, named
        parse_granularity(args.granularity)
        if args.calendar is not None:
            from marketpulse.calendars import check_calendar, session_table

            check_calendar(args.calendar)
        conditions = None
        if args.conditions is not None:
            from marketpulse.conditions import table_from

            conditions = table_from(args.conditions)
    except ValueError as exc:
        raise InputError(str(exc)) from exc

    def table_of(first: int, last: int) -> SessionTable | None:
        if args.calendar is None:
            return None
        return session_table(args.calendar, args.hours, first, last)

    source = Path(args.input)
    frame = read_table(source)
    refused: list[str] = []
    rows = bar_rows(source, frame, args.granularity, args.symbol, table_of, refused, conditions)
    output = Path(args.output) if args.output != "-" else None
    count = write_long_csv(output, HEADER, progress(rows, len(frame), "bars"))
    for problem in refused:
        print(f"skipped: {problem}", file=sys.stderr)
    skipped = f", {len(refused)} rows skipped" if refused else ""
    print(f"{len(frame)} rows, {count} bars -> {args.output}{skipped}", file=sys.stderr)
    return 1 if refused else 0


def _replay(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from marketpulse.conditions import table_from
    from marketpulse.files.ohlcv import InputError
    from marketpulse.streams.sources.replay import replay

    speed = None if args.speed == "max" else float(args.speed)
    inputs = [Path(p) for p in args.input]
    try:
        conditions = None if args.conditions is None else table_from(args.conditions)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    run = replay(
        get_settings(), inputs, args.symbol, args.granularity, speed, args.frame_size, conditions
    )
    summary = asyncio.run(run)
    print(summary, file=sys.stderr)
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    import asyncio

    from marketpulse.storage.setup import prepare_stores

    for line in asyncio.run(prepare_stores(get_settings())):
        print(line)
    return 0


def _sinks(_args: argparse.Namespace) -> int:
    from marketpulse.launch import run_sinks_process

    return run_sinks_process(get_settings())


def _up(_args: argparse.Namespace) -> int:
    from marketpulse.launch import run_all

    return run_all(get_settings())


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="marketpulse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    config = sub.add_parser(
        "config", help="show the effective settings, or print the configuration reference"
    )
    config.add_argument("action", choices=["show", "docs"])
    config.set_defaults(func=_config)

    schemas = sub.add_parser("schemas", help="write the JSON Schema of every topic")
    schemas.add_argument("action", choices=["export"])
    schemas.set_defaults(func=_schemas)

    services = sub.add_parser("services", help="start, stop or check the local services")
    services.add_argument("action", choices=["up", "down", "status"])
    services.set_defaults(func=_services)

    worker = sub.add_parser("worker", help="run one Faust worker")
    worker.add_argument("--loglevel", default="info")
    worker.set_defaults(func=_worker)

    api = sub.add_parser("api", help="serve the REST API")
    api.set_defaults(func=_api)

    user = sub.add_parser(
        "user",
        help="add an API user (password from MARKETPULSE_NEW_USER_PASSWORD or a prompt), or "
        "set a user's roles (the recovery when no admin can sign in)",
    )
    user.add_argument("action", choices=["add", "roles"])
    user.add_argument("username")
    user.add_argument("--email", help="for add")
    user.add_argument(
        "--role", action="append", choices=["user", "analyst", "admin"], default=[], required=True
    )
    user.set_defaults(func=_user)

    source = sub.add_parser("source", help="publish live or synthetic market data (a job)")
    source.add_argument("kind", choices=["synthetic", "polygon", "news"])
    source.add_argument("--symbols", default=DEFAULT_SYMBOLS)
    source.add_argument("--frame-size", type=int, default=20, help="events per frame")
    synthetic = source.add_argument_group("synthetic")
    synthetic.add_argument("--rate", default="200", help="events per second, or max")
    synthetic.add_argument("--duration", type=float, default=None, help="seconds (default: ever)")
    synthetic.add_argument("--events", type=int, default=None, help="stop after this many")
    synthetic.add_argument("--workers", type=int, default=1, help="generator processes")
    synthetic.add_argument("--seed", type=int, default=0)
    synthetic.add_argument(
        "--history-days",
        type=float,
        default=0.0,
        help="first publish this many days of the past (a frame per symbol a minute over the "
        "last six hours, every five minutes back to 30 hours, hourly before), from where "
        "market.raw ends if that is later, then go live from there",
    )
    polygon = source.add_argument_group("polygon")
    polygon.add_argument("--channels", default="T,Q,AM", help="T trades, Q quotes, AM/A bars")
    news = source.add_argument_group("news")
    news.add_argument("--provider", choices=["newsapi", "polygon"], default="newsapi")
    news.add_argument("--interval", type=float, default=300.0, help="seconds between polls")
    source.set_defaults(func=_source)

    ingest = sub.add_parser("ingest", help="backfill vendor bars or news over dates (a job)")
    ingest.add_argument("--provider", required=True, choices=["alphavantage", "polygon", "newsapi"])
    ingest.add_argument("--symbols", required=True, help="comma-separated")
    ingest.add_argument("--from", dest="start", required=True, help="first date, YYYY-MM-DD")
    ingest.add_argument("--to", dest="end", required=True, help="last date, YYYY-MM-DD")
    ingest.add_argument("--data", choices=["bars", "news"], default="bars")
    ingest.add_argument("--granularity", default="1d", help="bars: 1m, 5m, 15m, 30m, 1h, 1d")
    ingest.add_argument("--adjusted", action="store_true", help="alphavantage: adjusted daily")
    ingest.set_defaults(func=_ingest)

    indicators = sub.add_parser("indicators", help="compute indicators over an OHLCV file")
    indicators.add_argument("--input", help="CSV or Parquet OHLCV file")
    indicators.add_argument("--output", help="long CSV to write ('-': stdout)")
    indicators.add_argument("--symbol", help="the file's symbol, or the one to pick from it")
    indicators.add_argument(
        "--indicators", help="comma-separated specs, or 'all' (default: the setting)"
    )
    indicators.add_argument(
        "--catalog", action="store_true",
        help="print every spec at its defaults with TA-Lib's names (JSON), and exit",
    )  # fmt: skip
    indicators.add_argument(
        "--strict", action="store_true", help="stop at the first bad row instead of skipping it"
    )
    indicators.set_defaults(func=_indicators)

    patterns = sub.add_parser("patterns", help="find candlestick patterns in an OHLCV file")
    patterns.add_argument("--input", required=True, help="CSV or Parquet OHLCV file")
    patterns.add_argument("--output", required=True, help="long CSV to write ('-': stdout)")
    patterns.add_argument("--symbol", help="the file's symbol, or the one to pick from it")
    patterns.add_argument("--patterns", help="comma-separated names, e.g. cdldoji (default: all)")
    patterns.add_argument(
        "--strict", action="store_true", help="stop at the first bad row instead of skipping it"
    )
    patterns.set_defaults(func=_patterns)

    bars = sub.add_parser("bars", help="build bars from a file of trades or of smaller bars")
    bars.add_argument("--input", required=True, help="CSV or Parquet: trades or OHLCV bars")
    bars.add_argument("--output", required=True, help="CSV to write ('-': stdout)")
    bars.add_argument("--granularity", required=True, help="e.g. 5m, 1h, 1d, 1w, 1mo")
    bars.add_argument("--symbol", help="the file's symbol, or the one to pick from it")
    bars.add_argument("--calendar", help="exchange calendar, e.g. NYSE (default: UTC bars)")
    bars.add_argument(
        "--hours", choices=("regular", "extended"), default="regular", help="with --calendar"
    )
    bars.add_argument(
        "--conditions",
        metavar="SOURCE[=FILE]",
        help="trades set only the parts of a bar their conditions allow, by the source's "
        "shipped table (polygon) or by FILE, the vendor's conditions response",
    )
    bars.set_defaults(func=_bars)

    replay = sub.add_parser("replay", help="publish a file of bars or ticks to the pipeline")
    replay.add_argument(
        "--input", required=True, nargs="+", help="CSV or Parquet files, or directories of them"
    )
    replay.add_argument("--symbol", help="the file's symbol, or the one to pick from it")
    replay.add_argument("--granularity", default="1d", help="of the bars in the file")
    replay.add_argument("--speed", default="max", help="N times the recorded pace, or max")
    replay.add_argument("--frame-size", type=int, default=100, help="ticks per frame")
    replay.add_argument(
        "--conditions",
        metavar="SOURCE[=FILE]",
        help="mark trades by their conditions as that source's live feed does (see bars)",
    )
    replay.set_defaults(func=_replay)

    migrate = sub.add_parser(
        "migrate", help="apply PostgreSQL migrations, seed symbols, create InfluxDB's database"
    )
    migrate.set_defaults(func=_migrate)

    sinks = sub.add_parser("sinks", help="store the topics in InfluxDB, PostgreSQL and Redis")
    sinks.set_defaults(func=_sinks)

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
    except Exception as exc:
        if not _schema_missing(exc):
            raise
        hint = "the database has no schema yet; run `marketpulse migrate` first (`up` does it)"
        print(f"error: PostgreSQL: {exc}: {hint}", file=sys.stderr)
        return 2


def _schema_missing(exc: Exception) -> bool:
    """Whether a command met a database that was never migrated (asyncpg only loaded then)."""
    import asyncpg

    return isinstance(exc, asyncpg.UndefinedTableError)


if __name__ == "__main__":
    sys.exit(main())
