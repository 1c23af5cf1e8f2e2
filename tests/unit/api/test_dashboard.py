"""The dashboard's files: the vendored chart library is the one recorded, the page loads
nothing from elsewhere, and the package ships every file."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import PurePosixPath

from marketpulse.api.dashboard import WEB
from tests.workers import REPO

VENDOR = WEB / "assets" / "vendor"


def test_the_vendored_chart_library_is_the_recorded_version() -> None:
    record = (VENDOR / "VENDORED.md").read_text()
    row = next(line for line in record.splitlines() if "lightweight-charts.standalone" in line)
    version, sha = re.search(r"\| (\d+\.\d+\.\d+) \|.*`([0-9a-f]{64})`", row).groups()  # type: ignore[union-attr]
    library = (VENDOR / "lightweight-charts.standalone.production.js").read_bytes()
    assert hashlib.sha256(library).hexdigest() == sha
    assert f"Lightweight Charts™ v{version}".encode() in library[:300]
    assert "Apache License" in (VENDOR / "LICENSE.lightweight-charts").read_text()


def test_the_page_and_script_name_only_their_own_files() -> None:
    page = (WEB / "index.html").read_text()
    for path in re.findall(r'(?:src|href)="/dashboard/assets/([^"]+)"', page):
        assert (WEB / "assets" / path).is_file(), path
    script = (WEB / "assets" / "dashboard.js").read_text()
    assert "http://" not in script
    assert "https://" not in script
    assert "innerHTML" not in script
    assert "eval(" not in script


def test_the_package_ships_every_dashboard_file() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = [
        PurePosixPath(g) for g in pyproject["tool"]["setuptools"]["package-data"]["marketpulse"]
    ]
    for path in WEB.rglob("*"):
        if path.is_file():
            shipped = PurePosixPath(path.relative_to(REPO / "marketpulse").as_posix())
            # as setuptools globs them: ``*`` stays within one directory
            assert any(len(g.parts) == len(shipped.parts) and shipped.match(str(g)) for g in globs)
