// The marketpulse dashboard: history over REST, live updates over the WebSocket, drawn with
// lightweight-charts. It uses only the public API, with the signed-in user's token.
"use strict";

(() => {
  const LC = window.LightweightCharts;
  const API = "/api/v1";
  const BARS = 300; // bars per view
  const SIDE_SIGNALS = 50; // entries in the side list
  const MAX_WATCHED = 12;
  const MAX_LEVELS = 6; // support/resistance lines on the chart
  const RETRY_MS = 3000;
  const COLORS = {
    up: "#26a69a", down: "#ef5350", neutral: "#d29922", sma: "#f0b429", ema: "#58a6ff",
    bb: "#8b949e", vwap: "#d2a8ff", rsi: "#d2a8ff", macd: "#58a6ff", signal: "#f0b429",
    guide: "#484f58",
  };
  const $ = (id) => document.getElementById(id);
  const seconds = (ns) => Math.round(ns / 1e9);

  // ---- session and requests -------------------------------------------------------------

  const session = {
    get access() { return sessionStorage.getItem("mp.access"); },
    get refresh() { return sessionStorage.getItem("mp.refresh"); },
    save(tokens) {
      sessionStorage.setItem("mp.access", tokens.access_token);
      sessionStorage.setItem("mp.refresh", tokens.refresh_token);
    },
    clear() {
      sessionStorage.removeItem("mp.access");
      sessionStorage.removeItem("mp.refresh");
    },
  };

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
    get retryable() { return this.status === 0 || this.status >= 500; }
  }

  // One line per source of trouble ("api", "ws", ...), shown together in the banner.
  const problems = new Map();
  function problem(source, text) {
    if (text) problems.set(source, text);
    else problems.delete(source);
    $("banner").hidden = problems.size === 0;
    $("banner").textContent = [...problems.values()].join(" · ");
  }

  async function request(path, options = {}, retried = false) {
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    if (session.access) headers.Authorization = `Bearer ${session.access}`;
    let response;
    try {
      response = await fetch(API + path, { ...options, headers });
    } catch {
      problem("api", "The API is unreachable. Retrying…");
      throw new ApiError(0, "UNREACHABLE", "the API is unreachable");
    }
    const signingIn = path.startsWith("/auth/login") || path === "/auth/refresh";
    if (response.status === 401 && !retried && !signingIn && (await refreshTokens())) {
      return request(path, options, true);
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON: a proxy's error page
    }
    const error = (body && body.error) || {};
    if (response.status >= 500) {
      problem("api", `The API answered ${response.status} (${error.message || "no detail"}). Retrying…`);
    } else {
      problem("api", null);
    }
    if (!response.ok) {
      if (response.status === 401 && !signingIn) signOut("Your session has ended. Sign in again.");
      throw new ApiError(response.status, error.code || `HTTP_${response.status}`,
        error.message || response.statusText);
    }
    return body.data;
  }

  const post = (path, body) => request(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });

  let refreshing = null;
  function refreshTokens() {
    if (!session.refresh) return Promise.resolve(false);
    refreshing = refreshing || post("/auth/refresh", { refresh_token: session.refresh })
      .then((tokens) => { session.save(tokens); return true; })
      .catch(() => false)
      .finally(() => { refreshing = null; });
    return refreshing;
  }

  // Retry ``load`` while the API is down or failing and the answer is still ``wanted``; other
  // errors go to the caller.
  async function persistently(load, wanted = () => true) {
    for (;;) {
      try {
        return await load();
      } catch (err) {
        if (!(err instanceof ApiError) || !err.retryable || !wanted()) throw err;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  // ---- sign in and out ------------------------------------------------------------------

  let mfaToken = null;

  async function onLogin(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      const data = mfaToken
        ? await post("/auth/login/2fa", { mfa_token: mfaToken, code: $("totp").value.trim() })
        : await post("/auth/login", { username: $("username").value, password: $("password").value });
      if (data.mfa_required) {
        mfaToken = data.mfa_token;
        $("totp-row").hidden = false;
        $("totp").focus();
        return;
      }
      mfaToken = null;
      session.save(data);
      $("password").value = "";
      $("totp").value = "";
      $("totp-row").hidden = true;
      start();
    } catch (err) {
      $("login-error").textContent = err.message;
    }
  }

  function signOut(message) {
    session.clear();
    live.stop();
    $("app").hidden = true;
    $("picker").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("username").focus();
  }

  // ---- the chart ------------------------------------------------------------------------

  let catalog = null;
  let chart = null;
  let series = null;
  let markers = null;
  let plots = []; // {output, key}: which indicator output feeds which series
  let extra = null; // the indicator picked from the catalog: {name, lines: [series]}
  let view = null; // what is on the chart: symbol, granularity, times, signals, levels
  let loadSeq = 0;

  const LAYOUT = {
    background: { color: "#0d1117" }, textColor: "#c9d1d9", panes: { separatorColor: "#30363d" },
  };

  function buildChart() {
    chart = LC.createChart($("chart"), {
      autoSize: true,
      grid: { vertLines: { color: "#161b22" }, horzLines: { color: "#161b22" } },
      timeScale: { timeVisible: true, secondsVisible: true, borderColor: "#30363d" },
      rightPriceScale: { borderColor: "#30363d" },
      // The logo injects a <style> element, which the page's CSP refuses; the page credits
      // TradingView in its own markup instead (index.html).
      layout: { ...LAYOUT, attributionLogo: false },
    });
    const line = (color, pane, extra) => chart.addSeries(LC.LineSeries, {
      color, lineWidth: 1, priceLineVisible: false, lastValueVisible: false,
      crosshairMarkerVisible: false, ...extra,
    }, pane);
    const bars = { priceLineVisible: false, lastValueVisible: false };
    series = {
      candles: chart.addSeries(LC.CandlestickSeries, {
        upColor: COLORS.up, downColor: COLORS.down, wickUpColor: COLORS.up,
        wickDownColor: COLORS.down, borderVisible: false,
      }),
      sma: line(COLORS.sma, 0),
      ema: line(COLORS.ema, 0),
      bbUpper: line(COLORS.bb, 0, { lineStyle: LC.LineStyle.Dashed }),
      bbMiddle: line(COLORS.bb, 0, { lineStyle: LC.LineStyle.Dotted }),
      bbLower: line(COLORS.bb, 0, { lineStyle: LC.LineStyle.Dashed }),
      vwap: line(COLORS.vwap, 0),
      volume: chart.addSeries(LC.HistogramSeries, { ...bars, priceFormat: { type: "volume" } }, 1),
      rsi: line(COLORS.rsi, 2, { lastValueVisible: true }),
      macd: line(COLORS.macd, 3),
      macdSignal: line(COLORS.signal, 3),
      macdHist: chart.addSeries(LC.HistogramSeries, bars, 3),
    };
    for (const price of [70, 30]) {
      series.rsi.createPriceLine({
        price, color: COLORS.guide, lineStyle: LC.LineStyle.Dashed, axisLabelVisible: false,
      });
    }
    markers = LC.createSeriesMarkers(series.candles, []);
    chart.panes().forEach((pane, i) => pane.setStretchFactor([4, 1, 1.2, 1.2][i]));
  }

  const EXTRA_COLORS = ["#ff7b72", "#7ee787", "#ffa657", "#79c0ff"];

  // The streamed indicators drawn, by kind: the first of each in the catalog.
  const SERIES_OF = {
    sma: ["sma"], ema: ["ema"], bb: ["bbUpper", "bbMiddle", "bbLower"], vwap: ["vwap"],
    rsi: ["rsi"], macd: ["macd", "macdSignal", "macdHist"],
  };

  function drawnIndicators() {
    const sessionVwap = (kind) => kind === "vwap" && catalog.indicators.find((i) => i.spec === "vwap_session");
    const pick = (kind) => sessionVwap(kind) || catalog.indicators.find((i) => i.name === kind);
    return Object.keys(SERIES_OF).map((kind) => [kind, pick(kind)]).filter(([, spec]) => spec);
  }

  function setUpPlots() {
    const drawn = drawnIndicators();
    plots = drawn.flatMap(([kind, spec]) =>
      spec.outputs.map((output, i) => ({ output, key: SERIES_OF[kind][i] })));
    $("legend").replaceChildren(...drawn.map(([kind, spec]) => {
      const item = document.createElement("li");
      item.className = kind;
      item.textContent = spec.spec;
      item.dataset.spec = spec.spec;
      return item;
    }));
  }

  function chartState(state, message, kind = "info") {
    $("chart").dataset.state = state;
    $("chart-message").hidden = !message;
    $("chart-message").textContent = message || "";
    $("chart-message").dataset.kind = kind;
  }

  function clearChart() {
    for (const s of Object.values(series)) s.setData([]);
    if (view) for (const line of view.levels.values()) series.candles.removePriceLine(line);
    markers.setMarkers([]);
  }

  function candleOf(bar) {
    return { time: seconds(bar.start), open: bar.open, high: bar.high, low: bar.low, close: bar.close };
  }

  function volumeOf(bar) {
    const color = bar.close >= bar.open ? "rgba(38,166,154,0.5)" : "rgba(239,83,80,0.5)";
    return { time: seconds(bar.start), value: bar.volume, color };
  }

  function pointOf(key, time, value) {
    if (key !== "macdHist") return { time, value };
    return { time, value, color: value >= 0 ? "rgba(38,166,154,0.6)" : "rgba(239,83,80,0.6)" };
  }

  async function indicatorRows(symbol, granularity) {
    const drawn = drawnIndicators();
    const answers = await Promise.all(drawn.map(([, spec]) => {
      const params = spec.params ? `&params=${encodeURIComponent(spec.params)}` : "";
      return request(`/indicators/${symbol}/${spec.name}?granularity=${granularity}&limit=${BARS}${params}`)
        .then((answer) => answer.values, () => []);
    }));
    return answers.flat();
  }

  function historyPath(symbol, granularity) {
    const info = catalog.granularities.find((g) => g.name === granularity);
    if (info && info.seconds >= 86400) return `/market-data/${symbol}/daily?limit=${BARS}`;
    return `/market-data/${symbol}/intraday?granularity=${granularity}&limit=${BARS}`;
  }

  async function load(symbol, granularity, keep = true) {
    const seq = ++loadSeq;
    clearChart();
    view = { symbol, granularity, loaded: false, lastTime: null, lastFinal: null, times: new Map(), count: 0,
             signals: new Map(), marks: new Map(), levels: new Map(),
             sessions: new Map(), lastSession: null };
    $("title").textContent = `${symbol} · ${granularity}`;
    chartState("loading", `Loading ${symbol}…`);
    location.hash = `${symbol}/${granularity}`;
    localStorage.setItem("mp.last", location.hash);
    live.follow(symbol);
    let bars;
    try {
      bars = await persistently(() => request(historyPath(symbol, granularity)), () => seq === loadSeq);
    } catch (err) {
      if (seq !== loadSeq) return;
      if (err.status === 404 || err.status === 422 || err.code === "INVALID_SYMBOL") {
        chartState("unknown", `Unknown symbol: ${symbol}`, "error");
      } else {
        chartState("error", `Cannot load ${symbol}: ${err.message}`, "error");
      }
      return;
    }
    if (seq !== loadSeq) return;
    if (keep) watch(symbol);
    const [rows, signals] = await Promise.all([
      indicatorRows(symbol, granularity),
      request(`/signals/${symbol}?granularity=${granularity}&limit=500`).catch(() => []),
    ]);
    if (seq !== loadSeq) return;
    const complete = bars.filter((b) => b.open != null && b.close != null);
    series.candles.setData(complete.map(candleOf));
    series.volume.setData(complete.map(volumeOf));
    for (const { output, key } of plots) {
      const points = rows.filter((r) => r[output] != null)
        .map((r) => pointOf(key, seconds(r.ts), r[output]));
      series[key].setData(points);
      if (points.length) view.times.set(key, points[points.length - 1].time);
    }
    view.count = complete.length;
    view.lastTime = complete.length ? seconds(complete[complete.length - 1].start) : null;
    view.lastFinal = view.lastTime;
    view.loaded = true;
    for (const bar of complete) markSession(bar);
    for (const signal of signals) draw(signal);
    showSignals();
    chart.timeScale().fitContent();
    summarize();
    showExtra($("extra").value);
  }

  // Any kind of the catalog, computed on demand over the chart's bars: drawn over the prices
  // when it shares their scale (TA-Lib's own flag), else in a pane of its own.
  function fillExtra() {
    const select = $("extra");
    const groups = new Map();
    for (const kind of catalog.available) {
      if (!groups.has(kind.group)) groups.set(kind.group, document.createElement("optgroup"));
      const group = groups.get(kind.group);
      group.label = kind.group;
      group.append(new Option(`${kind.name} (${kind.function})`, kind.name));
    }
    select.replaceChildren(new Option("+ indicator", ""), ...groups.values());
  }

  function dropExtra() {
    if (!extra) return;
    for (const line of extra.lines) chart.removeSeries(line);
    extra = null;
    $("chart").dataset.extra = "";
    $("chart").dataset.extraPoints = "0";
    $("chart").dataset.extraFrom = "";
    $("chart").dataset.panes = String(chart.panes().length);
  }

  async function showExtra(name) {
    dropExtra();
    if (!name || !view) return;
    const kind = catalog.available.find((k) => k.name === name);
    const { symbol, granularity } = view;
    let answer;
    try {
      answer = await request(`/indicators/${symbol}/${name}?granularity=${granularity}&limit=${BARS}`);
    } catch (err) {
      const why = err.status === 403 ? `${name} is computed on demand: it needs the analyst role`
        : `Cannot compute ${name}: ${err.message}`;
      chartState($("chart").dataset.state, why, "error");
      return;
    }
    if (!view || view.symbol !== symbol || view.granularity !== granularity) return;
    const pane = kind.overlay ? 0 : chart.panes().length;
    const lines = answer.outputs.map((output, i) => {
      const line = chart.addSeries(LC.LineSeries, {
        color: EXTRA_COLORS[i % EXTRA_COLORS.length], lineWidth: 1, priceLineVisible: false,
        lastValueVisible: true, crosshairMarkerVisible: false,
      }, pane);
      line.setData(answer.values.filter((r) => r[output] != null)
        .map((r) => ({ time: seconds(r.ts), value: r[output] })));
      return line;
    });
    extra = { name, lines };
    $("chart").dataset.extra = answer.indicator;
    $("chart").dataset.extraPoints = String(answer.values.length);
    $("chart").dataset.extraFrom = answer.values.length ? String(seconds(answer.values[0].ts)) : "";
    $("chart").dataset.panes = String(chart.panes().length);
  }

  function summarize() {
    const el = $("chart");
    el.dataset.bars = String(view.count);
    el.dataset.lastBar = view.lastFinal == null ? "" : String(view.lastFinal);
    el.dataset.markers = String(markers.markers().length);
    el.dataset.marked = [...view.marks.keys()].join(" "); // "<bar time>|<direction>" each
    el.dataset.levels = String(view.levels.size);
    el.dataset.panes = String(chart.panes().length);
    if (view.count) chartState("ready", "");
    else chartState("empty", `No bars yet for ${view.symbol} at ${view.granularity}. Waiting for live data…`);
  }

  // Live records wait for the history: it replaces the chart's data when it comes, and a
  // candle drawn before it would mark an empty chart ready.
  function onBar(bar) {
    if (!view || !view.loaded || bar.symbol !== view.symbol || bar.granularity !== view.granularity) return;
    const time = seconds(bar.start);
    if (view.lastTime != null && time < view.lastTime) return; // the chart only moves forward
    series.candles.update(candleOf(bar));
    series.volume.update(volumeOf(bar));
    markSession(bar);
    if (time !== view.lastTime) view.count += 1;
    view.lastTime = time;
    if (bar.final !== false) view.lastFinal = time;
    summarize();
  }

  // The bar still open moves with each forming record (about once a second), its indicator
  // values with it; the closed bar replaces it. A forming record that comes after its bar
  // closed (the two travel on different topics) is a late copy and changes nothing.
  function onForming(snapshot) {
    if (!view || !view.loaded || snapshot.symbol !== view.symbol || snapshot.granularity !== view.granularity) return;
    const time = seconds(snapshot.bar_start);
    if (view.lastFinal != null && time <= view.lastFinal) return;
    onBar(snapshot.bar);
    onSnapshot(snapshot);
    const el = $("chart");
    el.dataset.forming = String(time);
    el.dataset.formingUpdates = String(Number(el.dataset.formingUpdates || "0") + 1);
  }

  // Each streamed indicator says whether it has reached its first output bar: one still
  // warming up (a new series, a longer period) is marked so in the legend.
  function showReadiness(ready) {
    for (const item of $("legend").children) {
      const warm = ready[item.dataset.spec];
      if (warm === undefined) continue;
      item.dataset.ready = String(warm);
      item.textContent = warm ? item.dataset.spec : `${item.dataset.spec} (warming up)`;
    }
  }

  function onSnapshot(snapshot) {
    if (!view || snapshot.symbol !== view.symbol || snapshot.granularity !== view.granularity) return;
    showReadiness(snapshot.ready);
    const time = seconds(snapshot.bar_start);
    for (const { output, key } of plots) {
      const value = snapshot.values[output];
      const last = view.times.get(key);
      if (value == null || (last != null && time < last)) continue;
      series[key].update(pointOf(key, time, value));
      view.times.set(key, time);
    }
  }

  // ---- signals: markers, level lines, the side list --------------------------------------

  const signalKey = (s) => `${s.symbol}|${s.granularity}|${s.ts}|${s.name}`;
  const MARKED = new Set(["breakout", "breakdown", "pivot_breakout", "pivot_breakdown"]);

  function draw(signal) {
    if (!view || signal.symbol !== view.symbol || signal.granularity !== view.granularity) return;
    const key = signalKey(signal);
    if (view.signals.has(key)) return; // delivered again (at-least-once)
    view.signals.set(key, signal);
    if (signal.kind === "level" && signal.details.level != null && signal.name.startsWith("swing_")) {
      if (signal.details.touches >= 2) drawLevel(signal);
      return;
    }
    if (signal.kind === "level" && !MARKED.has(signal.name)) return;
    const mark = `${seconds(signal.ts)}|${signal.direction}`;
    view.marks.set(mark, [...(view.marks.get(mark) || []), signal]);
    showMarkers();
  }

  // Intraday bars on an exchange calendar: the first bar of each session is marked with its
  // date, so that the chart shows where one session ends and the next begins.
  function markSession(bar) {
    if (!bar.session || bar.session === view.lastSession) return;
    const first = view.lastSession !== null;
    view.lastSession = bar.session;
    const info = catalog.granularities.find((g) => g.name === view.granularity);
    if (!first || (info && info.seconds >= 86400)) return; // days are sessions already
    view.sessions.set(bar.session, {
      time: seconds(bar.start), position: "aboveBar", color: COLORS.guide, shape: "square",
      text: bar.session,
    });
    showMarkers();
  }

  function showMarkers() {
    const all = [...view.marks.values()].map(markerOf).concat([...view.sessions.values()]);
    markers.setMarkers(all.sort((a, b) => a.time - b.time));
    $("chart").dataset.sessions = String(view.sessions.size);
  }

  // One marker per bar and direction, labelled with its most telling chart or trend signal.
  // Candlestick patterns and level crossings fire on many bars, so alone they get a bare arrow.
  const RANK = { chart: 0, trend: 1, level: 2, candlestick: 3 };

  function markerOf(signals) {
    const top = [...signals].sort((a, b) => RANK[a.kind] - RANK[b.kind])[0];
    const up = top.direction === "bullish";
    const down = top.direction === "bearish";
    const more = signals.length > 1 ? ` +${signals.length - 1}` : "";
    return {
      time: seconds(top.ts),
      position: down ? "aboveBar" : "belowBar",
      color: up ? COLORS.up : down ? COLORS.down : COLORS.neutral,
      shape: up ? "arrowUp" : down ? "arrowDown" : "circle",
      text: top.kind === "chart" || top.kind === "trend" ? top.name + more : "",
    };
  }

  function drawLevel(signal) {
    const price = signal.details.level;
    const id = price.toPrecision(4); // a level drifts a little as it is touched again
    const old = view.levels.get(id);
    if (old) series.candles.removePriceLine(old);
    view.levels.delete(id);
    view.levels.set(id, series.candles.createPriceLine({
      price,
      color: signal.name === "swing_high" ? COLORS.down : COLORS.up,
      lineStyle: LC.LineStyle.Dotted,
      lineWidth: 1,
      axisLabelVisible: true,
      title: signal.name === "swing_high" ? "resistance" : "support",
    }));
    while (view.levels.size > MAX_LEVELS) {
      const [oldest, line] = view.levels.entries().next().value;
      series.candles.removePriceLine(line);
      view.levels.delete(oldest);
    }
  }

  let latest = []; // the side list's signals, newest first
  function remember(signal) {
    const key = signalKey(signal);
    if (latest.some((s) => signalKey(s) === key)) return;
    latest.push(signal);
    latest.sort((a, b) => b.ts - a.ts);
    latest = latest.slice(0, SIDE_SIGNALS);
  }

  function showSignals() {
    const shown = latest.filter((s) => watched.includes(s.symbol));
    $("signals").replaceChildren(...shown.map((s) => {
      const item = document.createElement("li");
      item.className = s.direction;
      const when = document.createElement("time");
      when.textContent = new Date(s.ts / 1e6).toISOString().slice(5, 19).replace("T", " ");
      const what = document.createElement("b");
      what.textContent = s.symbol;
      item.append(when, what, ` ${s.granularity} · ${s.name.replace(/^cdl/, "")}`);
      item.title = `${s.kind}, ${s.direction}, strength ${s.strength}`;
      return item;
    }));
  }

  // A revised bar that no longer fires a signal withdraws it: off the chart and the list.
  function withdraw(signal) {
    const key = signalKey(signal);
    latest = latest.filter((s) => signalKey(s) !== key);
    if (!view || !view.signals.delete(key)) return;
    const mark = `${seconds(signal.ts)}|${signal.direction}`;
    const left = (view.marks.get(mark) || []).filter((s) => signalKey(s) !== key);
    if (left.length) view.marks.set(mark, left);
    else view.marks.delete(mark);
    showMarkers();
  }

  // A signal of a watched symbol may come while the chart shows another that has not loaded
  // (or never will: an unknown symbol); that chart's state is its own load's to say.
  function onSignal(signal) {
    if (signal.withdrawn) withdraw(signal);
    else {
      draw(signal);
      remember(signal);
    }
    showSignals();
    if (view && view.loaded) summarize();
  }

  async function loadLatestSignals() {
    const answers = await Promise.all(watched.map((symbol) =>
      request(`/signals/${symbol}?limit=20`).catch(() => [])));
    answers.flat().forEach(remember);
    showSignals();
  }

  // ---- watched and live symbols ---------------------------------------------------------

  // The watch list is the user's, kept by the API, so it follows the user between browsers.
  let watched = [];

  function watch(symbol) {
    if (!watched.includes(symbol)) {
      watched = [symbol, ...watched].slice(0, MAX_WATCHED);
      saveWatched();
      request(`/signals/${symbol}?limit=20`).then((found) => {
        found.forEach(remember);
        showSignals();
      }, () => {});
    }
  }

  function unwatch(symbol) {
    watched = watched.filter((s) => s !== symbol);
    saveWatched();
    showSignals();
  }

  function saveWatched() {
    showWatched();
    request("/watchlist", {
      method: "PUT", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ symbols: watched }),
    }).then(() => problem("watchlist", null),
      () => problem("watchlist", "The watch list could not be saved."));
  }

  function showWatched() {
    live.sync();
    $("watched").dataset.state = watched.length ? "listed" : "empty";
    $("watched").replaceChildren(...watched.map((symbol) => {
      const item = document.createElement("li");
      item.dataset.symbol = symbol;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.title = `Stop watching ${symbol}`;
      remove.addEventListener("click", () => unwatch(symbol));
      item.append(symbolLink(symbol), remove);
      return item;
    }));
  }

  function symbolLink(symbol) {
    const open = document.createElement("a");
    open.textContent = symbol;
    open.addEventListener("click", () => choose(symbol));
    return open;
  }

  // The symbols the running sources publish, newest source first, each symbol once.
  function showLive(sources) {
    const symbols = [...new Set(sources.flatMap((s) => s.symbols))];
    const from = new Map(sources.flatMap((s) => s.symbols.map((x) => [x, s.source])).reverse());
    $("live").dataset.state = symbols.length ? "listed" : "empty";
    $("live").replaceChildren(...symbols.map((symbol) => {
      const item = document.createElement("li");
      item.dataset.symbol = symbol;
      const source = document.createElement("span");
      source.textContent = from.get(symbol);
      item.append(symbolLink(symbol), source);
      return item;
    }));
    return symbols;
  }

  // ---- the live feed --------------------------------------------------------------------

  const live = (() => {
    let socket = null;
    let wanted = false;
    let attempts = 0;
    let timer = null;
    let dropped = false;
    let followed = null;
    let subscribed = new Set(); // "channel:SYMBOL"

    function status(state, text) {
      $("ws-status").dataset.state = state;
      $("ws-status").textContent = text;
    }

    function desired() {
      const pairs = watched.map((s) => `signals:${s}`);
      if (followed) {
        for (const channel of ["bars", "forming", "indicators", "signals"]) pairs.push(`${channel}:${followed}`);
      }
      return new Set(pairs);
    }

    function send(action, pairs) {
      const byChannel = new Map();
      for (const pair of pairs) {
        const [channel, symbol] = pair.split(":");
        byChannel.set(channel, [...(byChannel.get(channel) || []), symbol]);
      }
      for (const [channel, symbols] of byChannel) {
        socket.send(JSON.stringify({ action, channels: [channel], symbols }));
      }
    }

    function sync() {
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      const want = desired();
      const gone = [...subscribed].filter((p) => !want.has(p));
      const added = [...want].filter((p) => !subscribed.has(p));
      if (gone.length) send("unsubscribe", gone);
      if (added.length) send("subscribe", added);
      subscribed = want;
    }

    function onMessage(event) {
      const text = typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data);
      let message;
      try {
        message = JSON.parse(text);
      } catch {
        return;
      }
      const el = $("ws-status");
      el.dataset.received = String(Number(el.dataset.received || "0") + 1);
      if (message.type === "bars") onBar(message.data);
      else if (message.type === "indicators") onSnapshot(message.data);
      else if (message.type === "forming") onForming(message.data);
      else if (message.type === "signals") onSignal(message.data);
      else if (message.type === "error") problem("ws", `Live feed: ${message.message}`);
    }

    function connect() {
      timer = null;
      if (!wanted || !session.access) return;
      status(dropped ? "reconnecting" : "connecting", dropped ? "reconnecting…" : "connecting…");
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const ws = new WebSocket(
        `${scheme}://${location.host}${API}/stream?token=${encodeURIComponent(session.access)}`);
      ws.binaryType = "arraybuffer";
      socket = ws;
      ws.onopen = () => {
        attempts = 0;
        subscribed = new Set();
        status("live", "live");
        problem("ws", null);
        sync();
        if (dropped && view) load(view.symbol, view.granularity); // fill what was missed
        dropped = false;
      };
      ws.onmessage = onMessage;
      ws.onclose = async (event) => {
        if (socket !== ws) return;
        socket = null;
        if (!wanted) return;
        if (event.code === 1008 && !(await refreshTokens())) {
          signOut("Your session has ended. Sign in again.");
          return;
        }
        dropped = true;
        attempts += 1;
        const delay = Math.min(15000, 500 * 2 ** Math.min(attempts, 5)) * (0.5 + Math.random() / 2);
        status("reconnecting", `reconnecting in ${Math.ceil(delay / 1000)} s`);
        problem("ws", "The live feed dropped. Reconnecting…");
        timer = setTimeout(connect, delay);
      };
    }

    return {
      start() {
        wanted = true;
        if (!socket && !timer) connect();
      },
      stop() {
        wanted = false;
        clearTimeout(timer);
        timer = null;
        if (socket) socket.close(1000, "signed out");
        socket = null;
        status("offline", "offline");
      },
      follow(symbol) {
        followed = symbol;
        sync();
      },
      sync,
    };
  })();

  // ---- picking a symbol -----------------------------------------------------------------

  let suggestions = [];
  let active = -1;
  let suggestTimer = null;
  let suggestSeq = 0;

  // Show ``symbol``; ``keep`` adds it to the watch list (what the user picks, not what the page
  // opens on by itself).
  function choose(symbol, keep = true) {
    const wanted = symbol.trim().toUpperCase();
    hideSuggestions();
    if (!wanted) return;
    $("symbol").value = wanted;
    load(wanted, $("granularity").value, keep);
  }

  function hideSuggestions() {
    suggestions = [];
    active = -1;
    $("suggestions").hidden = true;
  }

  function showSuggestions() {
    $("suggestions").hidden = suggestions.length === 0;
    $("suggestions").replaceChildren(...suggestions.map((s, i) => {
      const item = document.createElement("li");
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", String(i === active));
      item.dataset.symbol = s.symbol;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = s.name;
      item.append(s.symbol, name);
      item.addEventListener("mousedown", (event) => {
        event.preventDefault(); // before the input's blur hides the list
        choose(s.symbol);
      });
      return item;
    }));
  }

  async function suggest() {
    const text = $("symbol").value.trim();
    const seq = ++suggestSeq;
    if (!text) {
      hideSuggestions();
      return;
    }
    let found;
    try {
      found = await request(`/market-data/search?q=${encodeURIComponent(text)}&limit=10`);
    } catch {
      return;
    }
    if (seq !== suggestSeq) return;
    suggestions = found;
    active = -1;
    showSuggestions();
  }

  function onSymbolKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!suggestions.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + suggestions.length) % suggestions.length;
      showSuggestions();
    } else if (event.key === "Escape") {
      hideSuggestions();
    }
  }

  function onPick(event) {
    event.preventDefault();
    choose(active >= 0 ? suggestions[active].symbol : $("symbol").value);
  }

  // ---- start ----------------------------------------------------------------------------

  async function start() {
    $("login").hidden = true;
    $("app").hidden = false;
    $("picker").hidden = false;
    $("logout").hidden = false;
    try {
      catalog = await persistently(() => request("/market-data/catalog"));
    } catch (err) {
      problem("api", `Cannot start: ${err.message}`);
      return;
    }
    if (!session.access) return; // signed out meanwhile
    const select = $("granularity");
    select.replaceChildren(...catalog.granularities.map((g) => new Option(g.name, g.name)));
    if (!chart) buildChart();
    setUpPlots();
    fillExtra();
    const [saved, sources] = await Promise.all([
      request("/watchlist").then((list) => list.symbols, () => []),
      request("/market-data/live").catch(() => []),
    ]);
    watched = saved;
    showWatched();
    const running = showLive(sources);
    live.start();
    loadLatestSignals();
    // the view the user left, else the first watched symbol, else the first one published now
    const [symbol, granularity] = (location.hash || localStorage.getItem("mp.last") || "")
      .replace(/^#/, "").split("/");
    if (catalog.granularities.some((g) => g.name === granularity)) select.value = granularity;
    const mine = symbol || watched[0];
    if (mine) choose(mine);
    else if (running.length) choose(running[0], false);
    else chartState("idle", "No source is running: search for a symbol above.");
  }

  function init() {
    if (!LC) {
      problem("assets", "The chart library did not load.");
      return;
    }
    $("login-form").addEventListener("submit", onLogin);
    $("picker").addEventListener("submit", onPick);
    $("symbol").addEventListener("input", () => {
      clearTimeout(suggestTimer);
      suggestTimer = setTimeout(suggest, 150);
    });
    $("symbol").addEventListener("keydown", onSymbolKey);
    $("symbol").addEventListener("blur", () => setTimeout(hideSuggestions, 100));
    $("granularity").addEventListener("change", () => view && load(view.symbol, $("granularity").value));
    $("extra").addEventListener("change", () => showExtra($("extra").value));
    $("logout").addEventListener("click", () => {
      post("/auth/logout", {}).catch(() => {});
      signOut("");
    });
    if (session.access) start();
    else signOut("");
  }

  init();
})();
