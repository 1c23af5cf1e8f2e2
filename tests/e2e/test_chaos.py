"""``make chaos`` in short: the same faults under load, holds shortened; every invariant holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketpulse.settings import Settings
from tests.chaos.scenario import chaos, print_checks

pytestmark = [pytest.mark.e2e]


async def test_the_whole_system_holds_under_load_and_faults(
    services: Settings, tmp_path: Path
) -> None:
    lines: list[str] = []
    checks = await chaos(services, tmp_path, pace=0.25, rate=1000, report=lines.append)
    print_checks(checks, lines.append)
    assert len(checks) == 6
    assert all(check.ok for check in checks), "\n".join(lines)
