"""What ``marketpulse ingest`` refuses before it records a job or calls a vendor."""

from __future__ import annotations

import datetime as dt

import pytest

from marketpulse.cli import build_parser
from marketpulse.streams.sources.vendor import Backfill, check
from marketpulse.vendors.factory import ProviderError
from marketpulse.vendors.polygon import aggregate_size

D = dt.date(2024, 1, 2)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (Backfill("polygon", ["A"], D, D - dt.timedelta(days=1)), "before --from"),
        (Backfill("alphavantage", ["A"], D, D, data="news"), "alphavantage has no news"),
        (Backfill("newsapi", ["A"], D, D), "newsapi has only news"),
        (Backfill("alphavantage", ["A"], D, D, granularity="2m"), "alphavantage bars come in"),
        (Backfill("polygon", ["A"], D, D, granularity="1w"), "not a Polygon aggregate size"),
    ],
)
def test_impossible_requests_are_refused_with_the_reason(request_: Backfill, message: str) -> None:
    with pytest.raises(ProviderError, match=message):
        check(request_)


def test_servable_requests_pass() -> None:
    for request in (
        Backfill("polygon", ["A"], D, D, granularity="5m"),
        Backfill("polygon", ["A"], D, D, data="news"),
        Backfill("alphavantage", ["A"], D, D, granularity="15m"),
        Backfill("newsapi", ["A"], D, D, data="news"),
    ):
        check(request)


def test_granularities_map_to_polygon_aggregate_sizes() -> None:
    assert [aggregate_size(g) for g in ("1m", "15m", "1h", "1d")] == [
        (1, "minute"), (15, "minute"), (1, "hour"), (1, "day"),
    ]  # fmt: skip


def test_the_ingest_command_line() -> None:
    args = build_parser().parse_args(
        ["ingest", "--provider", "polygon", "--symbols", "aapl, msft", "--from", "2024-01-02",
         "--to", "2024-02-01", "--granularity", "1h"]
    )  # fmt: skip
    assert (args.provider, args.start, args.end, args.granularity, args.data) == (
        "polygon", "2024-01-02", "2024-02-01", "1h", "bars",
    )  # fmt: skip
