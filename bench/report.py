"""``make bench``: run every benchmark, then write one markdown report (``docs/bench/REPORT.md``)
with the machine, the date, each figure against its target, and its ratio to the raw-client
baseline measured in the same run. Needs the services up (``make bench`` starts them)."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPORT = HERE.parent / "docs" / "bench" / "REPORT.md"
# In order of what they need: CPU only first, then the stores, the broker, the API.
SCRIPTS = [
    "indicators_engine.py",
    "indicators_ab.py",
    "engine_ab.py",
    "indicators_catalog.py",
    "patterns_engine.py",
    "influx_write.py",
    "warmup.py",
    "state_dictionary.py",
    "state_cost.py",
    "recovery.py",
    "synthetic_source.py",
    "pipeline.py",
    "profile_worker.py",
    "worker_ab.py",
    "faust_floor.py",
    "forming_worker.py",
    "scale_out.py",
    "api_load.py",
]


def run(script: str) -> tuple[list[dict[str, Any]], float, int]:
    """Run one benchmark, echoing its output; return its figures, seconds and exit status."""
    print(f"\n== {script}", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(HERE / script)], stdout=subprocess.PIPE, text=True, cwd=HERE.parent
    )
    figures = []
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RESULT "):
            figures.append(json.loads(line.removeprefix("RESULT ")))
        else:
            print(line, end="", flush=True)
    status = process.wait()
    return figures, time.perf_counter() - started, status


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def _status(figure: dict[str, Any]) -> str:
    target = figure["target"]
    if target is None:
        return ""
    met = figure["value"] <= target if figure["lower_is_better"] else figure["value"] >= target
    return "met" if met else "**missed**"


def _target(figure: dict[str, Any]) -> str:
    if figure["target"] is None:
        return ""
    return ("≤ " if figure["lower_is_better"] else "≥ ") + _number(figure["target"])


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or platform.machine(),
    )  # fmt: skip
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )  # fmt: skip
    return (
        f"{platform.node()}: {os.cpu_count()} cores ({model}), {memory_kb / 2**20:.0f} GiB, "
        f"{platform.freedesktop_os_release().get('PRETTY_NAME', platform.system())}, "
        f"Python {platform.python_version()}"
    )


def write(results: list[tuple[str, list[dict[str, Any]], float, int]]) -> str:
    lines = [
        "# Benchmark report",
        "",
        f"- **Date:** {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- **Machine:** {machine()}",
        "- **Services:** Tansu (memory), InfluxDB 1.6, PostgreSQL and Redis on the same machine,"
        " sharing its cores with the benchmark",
        "- **Command:** `make bench` (`bench/report.py`), every benchmark with its defaults",
        "",
        "| benchmark | figure | value | target | status | vs raw client |",
        "|---|---|---|---|---|---|",
    ]
    for script, figures, _seconds, status in results:
        by_name = {f["name"]: f for f in figures}
        if status != 0:
            lines.append(f"| `{script}` | exited with status {status} | | | **failed** | |")
        for figure in figures:
            base = by_name.get(figure["baseline"] or "")
            ratio = f"{figure['value'] / base['value']:.1%}" if base else ""
            if figure["name"] in {f["baseline"] for f in figures}:
                ratio = "baseline"
            lines.append(
                f"| `{script}` | {figure['name']} | {_number(figure['value'])} {figure['unit']} "
                f"| {_target(figure)} | {_status(figure)} | {ratio} |"
            )
    lines += [
        "",
        "Baselines are measured in the same run, on the same data, with a bare client: aiokafka "
        "for the broker, plain HTTP for InfluxDB. The CPU-bound engines and the API have no raw "
        "client doing the same work, so they have no ratio.",
        "",
        "Run times: "
        + ", ".join(f"`{script}` {seconds:.0f} s" for script, _f, seconds, _s in results)
        + ".",
        "",
    ]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines))
    return "\n".join(lines)


def main() -> int:
    results = [(script, *run(script)) for script in SCRIPTS]
    print("\n" + write(results))
    print(f"written to {REPORT.relative_to(HERE.parent)}")
    return 1 if any(status for *_rest, status in results) else 0


if __name__ == "__main__":
    sys.exit(main())
