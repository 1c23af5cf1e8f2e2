"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright), with
the stack running: worker, sinks and API as processes, the synthetic source publishing.

Bars are 5 s long so that a live bar arrives within the test. Twenty minutes of synthetic
history go in first, so the chart has candles, indicators and signals when the page opens.
"""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
import shutil
import string
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    async_playwright,
    expect,
)

from marketpulse.analytics.granularity import parse_granularity
from marketpulse.analytics.indicators.registry import catalog
from marketpulse.clock import SystemClock
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Frame
from marketpulse.schemas.signals import Signal
from marketpulse.services.apt import ensure_installed
from marketpulse.settings import Settings
from marketpulse.sinks.influx_sink import BarSink
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.postgres import create_pool
from marketpulse.storage.repositories.symbols import SymbolInfo, SymbolRepository
from marketpulse.storage.repositories.users import UserRepository
from marketpulse.storage.setup import prepare_stores
from marketpulse.streams.sources.publisher import Publisher
from marketpulse.streams.sources.synthetic import SyntheticMarket
from marketpulse.streams.topics import RAW, SIGNALS
from tests.api_helpers import PASSWORD
from tests.kafka_helpers import produce, unique
from tests.sink_helpers import eventually
from tests.workers import REPO, WorkerProcess, free_port

pytestmark = [pytest.mark.e2e]

S = 1_000_000_000
GRANULARITY = "5s"
DAY_NS = 86_400 * 10**9
HISTORY_S = 20 * 60
SEED = 7
SCREENSHOT = REPO / ".data" / "dashboard.png"


@dataclass
class Stack:
    url: str
    symbol: str
    username: str
    env: dict[str, str]
    tmp: Path
    api: WorkerProcess

    def start_api(self) -> WorkerProcess:
        self.api = WorkerProcess(["-m", "marketpulse.cli", "api"], self.env, self.tmp / "api.log")
        self.api.wait_for_url(f"{self.url}/api/v1/monitoring/live")
        return self.api


async def _history(settings: Settings, symbol: str) -> None:
    """Twenty minutes of ticks up to a second ago, one frame per second, from the generator the
    live source starts (same seed) but laid out backwards in time: the history ends at the
    price the live source starts from, so the chart has no jump where the two meet."""
    market = SyntheticMarket([symbol], seed=SEED)
    frames = [market.frame(symbol, 0, S, 10) for _ in range(HISTORY_S)]
    end = SystemClock().now_ns() // S * S - S
    async with Publisher(settings, "synthetic") as out:
        for i, frame in enumerate(reversed(frames)):
            start = end - (HISTORY_S - i) * S
            events = [
                event.model_copy(update={"ts": start + j * S // 10})
                for j, event in enumerate(reversed(frame.events))
            ]
            frame = Frame(source="synthetic", received_ts=start + S, events=events)
            await out.send(RAW.name, symbol, frame)


_COUNTS = {  # what the sinks have stored of a symbol's history, by kind
    "bars": 'SELECT count("close") FROM "raw_1y"."market_data" '
    "WHERE symbol = $s AND granularity = $g",
    "rsi": 'SELECT count("value") FROM "indicators_5y"."market_indicators" '
    "WHERE symbol = $s AND granularity = $g AND indicator = 'rsi_14'",
}


async def _stored(settings: Settings, symbol: str) -> None:
    """Wait until the sinks have stored the history's bars and indicators (separate sinks, each
    at its own pace)."""
    bars = HISTORY_S * S // parse_granularity(GRANULARITY) - 1  # the last one is still open
    wanted = {"bars": bars, "rsi": bars - 15}  # RSI(14) starts on the 15th bar
    async with InfluxClient(settings) as influx:
        for kind, query in _COUNTS.items():
            await eventually(
                functools.partial(influx.rows, query, {"s": symbol, "g": GRANULARITY}),
                lambda rows, want=wanted[kind]: bool(rows) and rows[0]["count"] >= want,
                timeout_s=90,
                what=f"the history's {kind} of {symbol} in InfluxDB",
            )


async def _prepare(settings: Settings, symbol: str, username: str, url: str) -> None:
    await prepare_stores(settings)
    pool = await create_pool(settings)
    try:
        await SymbolRepository(pool).upsert(
            [SymbolInfo(symbol=symbol, name="Dashboard Test Corp", exchange="TEST")]
        )
    finally:
        await pool.close()
    await _register(url, username)


async def _register(url: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        response = await client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 201, response.text
    return username


@pytest.fixture(scope="module")
def stack(services: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("dashboard")
    prefix = unique("dash") + "."
    symbol = "DB" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(4))
    port = free_port()
    env = {
        "MARKETPULSE_TOPIC_PREFIX": prefix,
        "MARKETPULSE_WORKER_ID": unique("dash"),
        "MARKETPULSE_GRANULARITIES": f'["{GRANULARITY}", "1m"]',
        "MARKETPULSE_API_PORT": str(port),
        "MARKETPULSE_WORKER_METRICS_PORT": "0",
        "MARKETPULSE_SINK_METRICS_PORT": "0",
        # the limits count per address in the shared Redis, where other tests sign up too
        "MARKETPULSE_API_RATE_ENDPOINTS": '{"auth": 10000, "register": 10000, '
        '"indicators": 10000, "batch": 10000}',
    }
    settings = services.model_copy(
        update={"topic_prefix": prefix, "granularities": [GRANULARITY, "1m"]}
    )
    url = f"http://127.0.0.1:{port}"
    processes: list[WorkerProcess] = []

    def start(name: str, *argv: str) -> WorkerProcess:
        process = WorkerProcess(["-m", "marketpulse.cli", *argv], env, tmp / f"{name}.log")
        processes.append(process)
        return process

    try:
        worker = start("worker", "worker")
        start("sinks", "sinks")
        api = start("api", "api")
        api.wait_for_url(f"{url}/api/v1/monitoring/live")
        username = unique("viewer").replace("-", "_")
        asyncio.run(_prepare(settings, symbol, username, url))
        worker.wait_for_log("[^Worker]: Ready")
        asyncio.run(_history(settings, symbol))
        asyncio.run(_stored(settings, symbol))
        start("source", "source", "synthetic", "--symbols", symbol, "--rate", "50",
              "--frame-size", "10", "--seed", str(SEED))  # fmt: skip
        stack = Stack(url, symbol, username, env, tmp, api)
        yield stack
        processes.append(stack.api)  # the test may have replaced it
    finally:
        for process in processes:
            if process.proc.poll() is None:
                process.stop()


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium, installed when missing (``make test`` runs as root)."""
    ensure_installed("dashboard tests", "chromium", "chromium", "PATH")
    binary = Path("/usr/lib/chromium/chromium")  # the browser itself, not Debian's wrapper
    return str(binary) if binary.exists() else str(shutil.which("chromium"))


@pytest.fixture
async def page(chromium: str) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox"]
        )
        context = await browser.new_context(viewport={"width": 1400, "height": 860})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error" and "Content Security Policy" in message.text:
                errors.append(f"CSP: {message.text}")

        page.on("console", on_console)
        yield page
        await browser.close()
        assert not errors, errors


async def _sign_in(page: Page, stack: Stack) -> None:
    await page.goto(f"{stack.url}/dashboard")
    await page.fill("#username", stack.username)
    await page.fill("#password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#app")).to_be_visible()


async def _int(page: Page, selector: str, attribute: str) -> int:
    value = await page.get_attribute(selector, attribute)
    return int(value or 0)


async def _until(
    page: Page, selector: str, attribute: str, check: Callable[[int], bool], timeout_s: float
) -> int:
    """Poll a numeric data attribute until ``check`` holds (read from outside the page: its
    CSP rightly forbids the eval that ``wait_for_function`` needs)."""
    deadline = time.monotonic() + timeout_s
    while not check(value := await _int(page, selector, attribute)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} {attribute} is still {value} after {timeout_s} s")
        await page.wait_for_timeout(200)
    return value


async def _chart_until(
    page: Page, attribute: str, check: Callable[[int], bool], timeout_s: float
) -> int:
    return await _until(page, "#chart", attribute, check, timeout_s)


async def test_dashboard_shows_live_candles_indicators_and_signals(
    stack: Stack, page: Page
) -> None:
    await page.goto(f"{stack.url}/dashboard")
    await expect(page.locator("#login-form")).to_be_visible()
    await page.fill("#username", stack.username)
    await page.fill("#password", "not the password")
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#login-error")).to_contain_text("wrong username or password")

    await _sign_in(page, stack)
    await expect(page.locator("#ws-status")).to_have_attribute("data-state", "live")

    # search as you type, then pick the suggestion
    await page.select_option("#granularity", GRANULARITY)
    await page.fill("#symbol", "")  # it holds the symbol the page opened on
    await page.type("#symbol", stack.symbol[:4].lower(), delay=50)
    suggestion = page.locator(f'#suggestions li[data-symbol="{stack.symbol}"]')
    await expect(suggestion).to_be_visible()
    await suggestion.click()

    chart = page.locator("#chart")
    await expect(chart).to_have_attribute("data-state", "ready", timeout=60_000)
    assert await _int(page, "#chart", "data-bars") >= 100  # the history, from InfluxDB
    await expect(page.locator("#legend li")).to_have_count(6)  # sma, ema, bb, vwap, rsi, macd
    assert await page.locator("#chart canvas").count() > 0

    # a new bar arrives over the WebSocket, without a reload
    first = await _int(page, "#chart", "data-last-bar")
    newer = await _chart_until(page, "data-last-bar", lambda last: last > first, 60)
    assert newer % 5 == 0
    # and the bar still open moves before it closes (analytics.forming, once a second)
    await _chart_until(page, "data-forming-updates", lambda updates: updates >= 3, 30)
    forming = await _int(page, "#chart", "data-forming")
    assert forming % 5 == 0
    assert forming > first  # a bar after the history's last, which had closed
    # the live snapshots say each drawn indicator is warm: twenty minutes of 5 s bars
    await expect(page.locator('#legend li[data-ready="true"]')).to_have_count(6)

    # pattern and trend signals are drawn as markers, and listed at the side
    await _chart_until(page, "data-markers", lambda markers: markers > 0, 30)
    await expect(page.locator("#signals li").first).to_contain_text(stack.symbol)
    await expect(page.locator("#watched li")).to_contain_text([stack.symbol])

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000


async def test_dashboard_takes_a_withdrawn_signal_off_the_chart(
    stack: Stack, page: Page, services: Settings
) -> None:
    await _sign_in(page, stack)
    await page.select_option("#granularity", GRANULARITY)
    await page.fill("#symbol", stack.symbol)
    await page.press("#symbol", "Enter")
    await expect(page.locator("#chart")).to_have_attribute("data-state", "ready", timeout=60_000)
    await expect(page.locator("#ws-status")).to_have_attribute("data-state", "live")
    # on the history's first bar, where no indicator is warm and nothing else fires
    first = (await _stored_starts(services, stack))[0] * S
    signal = Signal(symbol=stack.symbol, granularity=GRANULARITY, ts=first, kind="chart",
                    name="double_bottom", direction="neutral", strength=50.0)  # fmt: skip
    topic = stack.env["MARKETPULSE_TOPIC_PREFIX"] + SIGNALS.name
    mark = re.compile(rf"(^|\s){first // S}\|neutral(\s|$)")
    await expect(page.locator("#chart")).not_to_have_attribute("data-marked", mark)
    await produce(services, topic, [(stack.symbol.encode(), signal.model_dump_json().encode())])
    await expect(page.locator("#chart")).to_have_attribute("data-marked", mark)
    gone = signal.model_copy(update={"revision": 1, "withdrawn": True})
    await produce(services, topic, [(stack.symbol.encode(), gone.model_dump_json().encode())])
    await expect(page.locator("#chart")).not_to_have_attribute("data-marked", mark)


async def test_dashboard_shows_bad_states_and_reconnects(stack: Stack, page: Page) -> None:
    await _sign_in(page, stack)
    await page.select_option("#granularity", GRANULARITY)
    await page.fill("#symbol", stack.symbol)  # watched from now on: its signals keep coming
    await page.press("#symbol", "Enter")
    await expect(page.locator("#chart")).to_have_attribute("data-state", "ready", timeout=60_000)

    await page.fill("#symbol", "NOSUCH")
    await page.press("#symbol", "Enter")
    await expect(page.locator("#chart")).to_have_attribute("data-state", "unknown")
    await expect(page.locator("#chart-message")).to_have_text("Unknown symbol: NOSUCH")
    # a live signal of the watched symbol leaves the unknown one's chart as it is
    received = await _int(page, "#ws-status", "data-received")
    await _until(page, "#ws-status", "data-received", lambda count: count > received, 60)
    assert await page.get_attribute("#chart", "data-state") == "unknown"

    await page.fill("#symbol", stack.symbol)
    await page.press("#symbol", "Enter")
    await expect(page.locator("#chart")).to_have_attribute("data-state", "ready", timeout=60_000)
    await expect(page.locator("#ws-status")).to_have_attribute("data-state", "live")

    # the API goes away: the feed drops, the page says so and keeps trying
    stack.api.stop()  # uvicorn shuts down, then re-raises the SIGTERM
    assert "Application shutdown complete" in stack.api.log()
    await expect(page.locator("#ws-status")).to_have_attribute("data-state", "reconnecting")
    await expect(page.locator("#banner")).to_contain_text("live feed dropped")
    await page.select_option("#granularity", "1m")  # a request while the API is down
    await expect(page.locator("#banner")).to_contain_text("API is unreachable")

    # ... and it comes back: the feed reconnects and the view reloads on its own
    await asyncio.to_thread(stack.start_api)
    await expect(page.locator("#ws-status")).to_have_attribute("data-state", "live", timeout=60_000)
    await expect(page.locator("#banner")).to_be_hidden(timeout=30_000)
    await expect(page.locator("#chart")).to_have_attribute("data-state", "ready", timeout=30_000)
    assert await page.locator("#title").text_content() == f"{stack.symbol} · 1m"


async def test_dashboard_marks_where_each_session_begins(
    services: Settings, stack: Stack, page: Page
) -> None:
    """Minute bars of two sessions on an exchange calendar: the chart marks the second's
    first bar with its date (the first session's start is the chart's own edge)."""
    symbol = "SS" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(4))
    day = SystemClock().now_ns() // DAY_NS * DAY_NS - 2 * DAY_NS
    bars = [
        Bar(symbol=symbol, granularity="1m", start=start, end=start + 60 * S, open=10.0,
            high=11.0, low=9.0, close=10.5, volume=100.0, calendar="NYSE", session=session)
        for first, session in ((day, "2099-01-02"), (day + DAY_NS, "2099-01-03"))
        for start in range(first + 14 * 3600 * S, first + 14 * 3600 * S + 30 * 60 * S, 60 * S)
    ]  # fmt: skip
    sink = BarSink(services)
    await sink.start()
    await sink.write(bars)
    await sink.close()
    await _sign_in(page, stack)
    await page.select_option("#granularity", "1m")
    await page.fill("#symbol", symbol)
    await page.press("#symbol", "Enter")
    await _chart_until(page, "data-bars", lambda count: count == len(bars), 30)
    await _chart_until(page, "data-sessions", lambda count: count == 1, 30)


async def test_dashboard_with_no_data_yet_says_so(stack: Stack, page: Page) -> None:
    await _sign_in(page, stack)
    await page.select_option("#granularity", GRANULARITY)
    await page.fill("#symbol", "AAPL")  # a known symbol this stack has no 5 s bars for
    await page.press("#symbol", "Enter")
    await expect(page.locator("#chart")).to_have_attribute("data-state", "empty")
    await expect(page.locator("#chart-message")).to_contain_text("No bars yet for AAPL")


async def test_dashboard_opens_on_a_live_symbol_and_keeps_each_users_watch_list(
    stack: Stack, page: Page
) -> None:
    newcomer = await _register(stack.url, unique("newcomer").replace("-", "_"))
    other = await _register(stack.url, unique("other").replace("-", "_"))
    await _sign_in(page, replace(stack, username=newcomer))

    # nothing watched, no view left from before: the running source's symbols are listed and
    # the first of them is on the chart, shown but not added to the watch list
    live = page.locator("#live li")
    await expect(page.locator("#live")).to_have_attribute("data-state", "listed")
    assert stack.symbol in [await item.get_attribute("data-symbol") for item in await live.all()]
    first = await live.first.get_attribute("data-symbol")
    await expect(page.locator("#title")).to_have_text(re.compile(rf"^{re.escape(str(first))} · "))
    await expect(page.locator("#watched")).to_have_attribute("data-state", "empty")

    # a symbol the user opens is watched, and the list is the user's: a new browser (no local
    # storage) shows it and opens on it
    async with page.expect_response(_saved_watchlist):
        await page.locator(f'#live li[data-symbol="{stack.symbol}"] a').click()
    await expect(page.locator("#chart")).to_have_attribute("data-state", "ready", timeout=60_000)
    browser = page.context.browser
    assert browser is not None

    async def fresh_page(username: str) -> Page:
        context = await browser.new_context(viewport={"width": 1400, "height": 860})
        fresh = await context.new_page()
        await _sign_in(fresh, replace(stack, username=username))
        return fresh

    again = await fresh_page(newcomer)
    await expect(again.locator(f'#watched li[data-symbol="{stack.symbol}"]')).to_be_visible()
    await expect(again.locator("#title")).to_have_text(f"{stack.symbol} · {GRANULARITY}")

    # another user's list is not this one's
    someone = await fresh_page(other)
    await expect(someone.locator("#live")).to_have_attribute("data-state", "listed")
    await expect(someone.locator("#watched")).to_have_attribute("data-state", "empty")

    # and a symbol removed stays removed
    async with again.expect_response(_saved_watchlist):
        await again.locator(f'#watched li[data-symbol="{stack.symbol}"] button').click()
    third = await fresh_page(newcomer)
    await expect(third.locator("#live")).to_have_attribute("data-state", "listed")
    await expect(third.locator("#watched")).to_have_attribute("data-state", "empty")


async def _make_analyst(settings: Settings, username: str) -> None:
    pool = await create_pool(settings)
    try:
        users = UserRepository(pool)
        user = await users.by_username(username)
        assert user is not None
        await users.set_roles(user.user_id, ["user", "analyst"])
    finally:
        await pool.close()


async def test_dashboard_draws_any_indicator_of_the_catalog(
    stack: Stack, page: Page, services: Settings
) -> None:
    async def open_chart() -> None:
        await page.select_option("#granularity", GRANULARITY)
        await page.fill("#symbol", stack.symbol)
        await page.press("#symbol", "Enter")
        await expect(page.locator("#chart")).to_have_attribute("data-state", "ready",
                                                               timeout=60_000)  # fmt: skip

    viewer = await _register(stack.url, unique("picker").replace("-", "_"))
    await _sign_in(page, replace(stack, username=viewer))
    await open_chart()
    # every kind of the catalog is offered, by TA-Lib's groups
    await expect(page.locator("#extra option")).to_have_count(len(catalog()) + 1)
    await expect(page.locator("#extra optgroup")).to_have_count(
        len({entry["group"] for entry in catalog()})
    )
    # computing one on demand is the analyst's
    await page.select_option("#extra", "kama")
    await expect(page.locator("#chart-message")).to_have_text(
        "kama is computed on demand: it needs the analyst role"
    )

    await _make_analyst(services, viewer)
    await page.click("#logout")
    await _sign_in(page, replace(stack, username=viewer))
    await open_chart()
    panes = await _int(page, "#chart", "data-panes")
    # an average is drawn over the prices: no new pane, a value from its first output bar on
    # (KAMA(30): the 31st bar), whatever live bars have come since
    stored = await _stored_starts(services, stack)
    await page.select_option("#extra", "kama")
    await expect(page.locator("#chart")).to_have_attribute("data-extra", "kama")
    assert await _int(page, "#chart", "data-extra-from") == stored[30]
    assert await _int(page, "#chart", "data-extra-points") >= len(stored) - 30
    assert await _int(page, "#chart", "data-panes") == panes
    # an oscillator gets a pane of its own, which goes when another is picked
    await page.select_option("#extra", "aroonosc")
    await expect(page.locator("#chart")).to_have_attribute("data-extra", "aroonosc")
    assert await _int(page, "#chart", "data-panes") == panes + 1
    await page.select_option("#extra", "")
    await expect(page.locator("#chart")).to_have_attribute("data-extra", "")
    assert await _int(page, "#chart", "data-panes") == panes


async def _stored_starts(settings: Settings, stack: Stack) -> list[int]:
    """The starts, in seconds, of the symbol's stored bars, oldest first."""
    query = (
        'SELECT "close" FROM "raw_1y"."market_data" WHERE symbol = $s AND granularity = $g '
        "ORDER BY time"
    )
    async with InfluxClient(settings) as influx:
        rows = await influx.rows(query, {"s": stack.symbol, "g": GRANULARITY})
    return [int(row["time"]) // S for row in rows]


def _saved_watchlist(response: Response) -> bool:
    return (
        response.url.endswith("/api/v1/watchlist")
        and response.request.method == "PUT"
        and response.ok
    )


def test_screenshot_is_committed_for_the_readme() -> None:
    committed = REPO / "docs" / "dashboard.png"
    assert committed.exists()
    assert committed.stat().st_size > 10_000
    assert "docs/dashboard.png" in (REPO / "README.md").read_text()
