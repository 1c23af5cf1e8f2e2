"""InfluxDB 1.x from Debian, run with a config of our own under the data directory."""

from __future__ import annotations

from pathlib import Path

from marketpulse.services.apt import ensure_installed
from marketpulse.services.base import LocalService
from marketpulse.services.probes import http_status

_CONFIG = """\
reporting-disabled = true
bind-address = "{host}:{rpc_port}"

[meta]
  dir = "{root}/meta"

[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false

[http]
  enabled = true
  bind-address = "{host}:{port}"
  auth-enabled = false
  log-enabled = false

[monitor]
  store-enabled = false
"""


class InfluxDB(LocalService):
    """InfluxDB serving the v1 HTTP API (/write, /query, /ping)."""

    name = "influxdb"
    env_hint = "MARKETPULSE_INFLUX_URL (and _INFLUX_USERNAME/_PASSWORD or _INFLUX_TOKEN)"
    start_timeout_s = 30.0

    @property
    def address(self) -> tuple[str, int]:
        return self.settings.influx_address

    @property
    def process_match(self) -> str:
        return "influxd"

    def healthy(self) -> bool:
        return http_status(self.settings.influx_url.rstrip("/") + "/ping") == 204

    def write_config(self) -> Path:
        """Write influxdb.conf with every path under the data directory; return its path."""
        root = self.data_dir / "influxdb"
        root.mkdir(parents=True, exist_ok=True)
        host, port = self.address
        config = root / "influxdb.conf"
        config.write_text(
            _CONFIG.format(root=root, host=host, port=port, rpc_port=self.settings.influx_rpc_port)
        )
        return config

    def start(self) -> None:
        binary = ensure_installed(self.name, "influxdb", "influxd", self.env_hint)
        self.process.spawn([binary, "-config", str(self.write_config())])
