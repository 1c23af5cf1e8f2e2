"""PostgreSQL: an existing server when one answers, else a cluster of our own."""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import subprocess
from pathlib import Path

from marketpulse.errors import ServiceError
from marketpulse.services.apt import ensure_installed
from marketpulse.services.base import LocalService
from marketpulse.services.probes import tcp_open

SYSTEM_SOCKET_DIR = "/var/run/postgresql"


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_major, reverse=True)
    return Path(found[0]).parent if found else None


def _major(path: str) -> int:
    version = Path(path).parent.parent.name
    return int(version) if version.isdigit() else 0


def _traversable_by(user: str, path: Path) -> bool:
    """Tell whether ``user`` may enter every folder above ``path``."""
    entry = pwd.getpwnam(user)
    for folder in [path, *path.parents]:
        if not folder.exists():
            continue
        st = folder.stat()
        if st.st_uid == entry.pw_uid:
            ok = bool(st.st_mode & 0o100)
        elif st.st_gid == entry.pw_gid:
            ok = bool(st.st_mode & 0o010)
        else:
            ok = bool(st.st_mode & 0o001)
        if not ok:
            return False
    return True


class PostgreSQL(LocalService):
    """initdb refuses root, so our cluster is created and run as the ``postgres`` user."""

    name = "postgres"
    env_hint = "MARKETPULSE_POSTGRES_HOST/_PORT/_USER/_PASSWORD/_DATABASE"
    start_timeout_s = 60.0

    @property
    def address(self) -> tuple[str, int]:
        return self.settings.postgres_host, self.settings.postgres_port

    @property
    def cluster_dir(self) -> Path:
        """The cluster's folder: ``.data/postgres``, or a link from it when postgres can't enter.

        A clone under a private folder (``mktemp -d`` makes 0700 ones) cannot be entered by the
        postgres user, so the cluster then lives under /var/lib/marketpulse and
        ``.data/postgres`` links to it.
        """
        return self.data_dir / "postgres"

    def healthy(self) -> bool:
        return tcp_open(*self.address) and self._pg_isready()

    def _pg_isready(self) -> bool:
        bindir = _bindir()
        if bindir is None:
            return True  # no client tools: the open port is the best probe we have
        host, port = self.address
        result = subprocess.run(
            [str(bindir / "pg_isready"), "-q", "-h", host, "-p", str(port), "-t", "1"],
            check=False,
        )
        return result.returncode == 0

    def managed(self) -> bool:
        return (self.cluster_dir / "postmaster.pid").exists() and self._ctl("status") == 0

    def _ctl(self, *args: str) -> int:
        bindir = _bindir()
        if bindir is None:
            return 1
        return self._as_postgres(
            [str(bindir / "pg_ctl"), "-D", str(self.cluster_dir.resolve()), *args]
        ).returncode

    def _as_postgres(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=False)

    def start(self) -> None:
        bindir = _bindir()
        if bindir is None:
            ensure_installed(self.name, "postgresql", "pg_ctlcluster", self.env_hint)
            bindir = _bindir()
        if bindir is None or os.geteuid() != 0:
            raise ServiceError(
                self.name,
                "no PostgreSQL server answers, and starting one needs its binaries "
                f"(/usr/lib/postgresql/*/bin) and root; or point {self.env_hint} at one",
            )
        self._prepare_cluster(bindir)
        host, port = self.address
        options = (
            f"-c listen_addresses={host} -p {port} -c unix_socket_directories={self.socket_dir}"
        )
        result = self._as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(self.cluster_dir.resolve()),
                "-l",
                str(self.log_path),
                "-o",
                options,
                "-w",
                "-t",
                str(int(self.start_timeout_s)),
                "start",
            ]
        )
        if result.returncode != 0:
            raise ServiceError(self.name, f"pg_ctl start failed: {result.stderr}", self.log_tail())

    @property
    def socket_dir(self) -> Path:
        """Our cluster's Unix socket folder, inside the cluster folder (postgres owns it)."""
        return self.cluster_dir.resolve()

    @property
    def log_path(self) -> Path:
        return self.cluster_dir.resolve() / "server.log"

    def _prepare_cluster(self, bindir: Path) -> None:
        if (self.cluster_dir / "PG_VERSION").exists():
            return
        target = self.cluster_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not _traversable_by("postgres", self.data_dir):
            digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
            target = Path("/var/lib/marketpulse") / digest / "postgres"
            target.parent.mkdir(parents=True, exist_ok=True)
            self.cluster_dir.unlink(missing_ok=True)
            self.cluster_dir.symlink_to(target)
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["chown", "-R", "postgres:postgres", str(target)], check=True)
        target.chmod(0o700)
        result = self._as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(target),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        if result.returncode != 0:
            raise ServiceError(self.name, f"initdb failed: {result.stdout}{result.stderr}")

    def stop(self) -> bool:
        if not self.managed():
            return False
        self._ctl("stop", "-m", "fast", "-w")
        return True

    def after_ready(self) -> None:
        """Create our role and database, through the superuser socket, when they are missing."""
        if self._can_login():
            return
        socket_dir = str(self.socket_dir) if self.managed() else SYSTEM_SOCKET_DIR
        s = self.settings
        password = s.postgres_password.get_secret_value().replace("'", "''")
        psql = self._psql()
        if psql is None or os.geteuid() != 0:
            raise ServiceError(
                self.name,
                f"cannot log in as {s.postgres_user!r} to database {s.postgres_database!r}, and "
                f"creating them needs psql and root; or set {self.env_hint}",
            )
        base = [psql, "-h", socket_dir, "-p", str(s.postgres_port), "-v", "ON_ERROR_STOP=1"]
        self._run_psql(
            [
                *base,
                "-d",
                "postgres",
                "-c",
                f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{s.postgres_user}') THEN
                CREATE ROLE "{s.postgres_user}" LOGIN PASSWORD '{password}';
              ELSE ALTER ROLE "{s.postgres_user}" LOGIN PASSWORD '{password}'; END IF; END $$;""",
            ]
        )
        exists = self._as_postgres(
            [
                *base,
                "-d",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{s.postgres_database}'",  # noqa: S608 - a validated name
            ]
        )
        if exists.stdout.strip() != "1":
            self._run_psql(
                [
                    *base,
                    "-d",
                    "postgres",
                    "-c",
                    f'CREATE DATABASE "{s.postgres_database}" OWNER "{s.postgres_user}"',
                ]
            )
        if not self._can_login():
            raise ServiceError(
                self.name, f"created role {s.postgres_user!r} but still cannot log in"
            )

    def _run_psql(self, argv: list[str]) -> None:
        result = self._as_postgres(argv)
        if result.returncode != 0:
            raise ServiceError(self.name, f"psql failed: {result.stderr.strip()}")

    def _psql(self) -> str | None:
        bindir = _bindir()
        return str(bindir / "psql") if bindir and (bindir / "psql").exists() else None

    def _can_login(self) -> bool:
        bindir = _bindir()
        if bindir is None:
            return True  # nothing to check with; the first query will tell
        s = self.settings
        result = subprocess.run(
            [
                str(bindir / "psql"),
                "-w",
                "-tAc",
                "SELECT 1",
                "-h",
                s.postgres_host,
                "-p",
                str(s.postgres_port),
                "-U",
                s.postgres_user,
                "-d",
                s.postgres_database,
            ],
            capture_output=True,
            text=True,
            check=False,
            env={
                **os.environ,
                "PGCONNECT_TIMEOUT": "3",
                "PGPASSWORD": s.postgres_password.get_secret_value(),
            },
        )
        return result.stdout.strip() == "1"
