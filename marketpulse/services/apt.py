"""Install Debian packages on demand, or explain what is missing when we cannot."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from marketpulse.errors import ServiceError

_updated = False


def ensure_installed(service: str, package: str, binary: str, alternative_env: str) -> str:
    """Return the path of ``binary``, installing ``package`` with apt when it is missing."""
    global _updated
    found = shutil.which(binary) or _sbin(binary)
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ServiceError(
            service,
            f"`{binary}` is not installed, and installing it needs apt-get and root. "
            f"Install the Debian package `{package}`, or point {alternative_env} at an existing "
            "server.",
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _updated:
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        _updated = True
    with _no_service_autostart():
        result = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    found = shutil.which(binary) or _sbin(binary)
    if result.returncode != 0 or not found:
        raise ServiceError(
            service,
            f"apt-get install {package} failed (exit {result.returncode}); "
            f"or point {alternative_env} at an existing server",
            log_tail="\n".join((result.stdout + result.stderr).splitlines()[-15:]),
        )
    return found


@contextmanager
def _no_service_autostart() -> Iterator[None]:
    """Keep the package's own init script from starting a second server with its own config."""
    policy = Path("/usr/sbin/policy-rc.d")
    if policy.exists():
        yield
        return
    policy.write_text("#!/bin/sh\n# written by marketpulse during apt-get install\nexit 101\n")
    policy.chmod(0o755)
    try:
        yield
    finally:
        policy.unlink(missing_ok=True)


def _sbin(binary: str) -> str | None:
    for folder in ("/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"):
        path = os.path.join(folder, binary)
        if os.access(path, os.X_OK):
            return path
    return None
