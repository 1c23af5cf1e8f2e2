"""``make bench``'s report: every benchmark is run and reports figures; targets, statuses and
ratios to the raw-client baselines are computed right."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.bench_scripts import BENCH, load


def _report() -> ModuleType:
    return load("report")


def test_every_benchmark_is_run_and_emits_figures() -> None:
    report = _report()
    runnable = {p.name for p in BENCH.glob("*.py") if "__main__" in p.read_text()}
    # the rest are helpers (results.py, proc.py); floor_worker.py is faust_floor.py's worker
    scripts = runnable - {"report.py", "floor_worker.py"}
    assert set(report.SCRIPTS) == scripts
    for script in scripts:
        assert "emit(" in (BENCH / script).read_text(), script


def test_the_report_gives_targets_statuses_and_ratios(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _report()
    monkeypatch.setattr(report, "REPORT", tmp_path / "REPORT.md")

    def figure(
        name: str, value: float, target: float | None = None, **extra: object
    ) -> dict[str, object]:
        return {"name": name, "value": value, "unit": "x/s", "target": target,
                "lower_is_better": False, "baseline": None, **extra}  # fmt: skip

    text = report.write([
        ("a.py", [figure("raw", 1000.0), figure("ours", 800.0, 500, baseline="raw")], 1.0, 0),
        ("b.py", [figure("slow", 2000.0, 50, lower_is_better=True)], 1.0, 0),
        ("c.py", [], 1.0, 3),
    ])  # fmt: skip
    assert text == (tmp_path / "REPORT.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows == [
        "| `a.py` | raw | 1,000 x/s |  |  | baseline |",
        "| `a.py` | ours | 800 x/s | ≥ 500 | met | 80.0% |",
        "| `b.py` | slow | 2,000 x/s | ≤ 50.0 | **missed** |  |",
        "| `c.py` | exited with status 3 | | | **failed** | |",
    ]
    assert "**Machine:**" in text
    assert "cores" in text
