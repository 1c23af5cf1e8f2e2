"""Fast health probes that speak each service's own protocol."""

from __future__ import annotations

import socket
import struct
import urllib.error
import urllib.request


def tcp_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """Tell whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def kafka_api_versions(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """Send a Kafka ApiVersions v0 request and tell whether a well-formed answer came back."""
    client_id = b"marketpulse-probe"
    body = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = _recv_exact(sock, 8)
    except OSError:
        return False
    if header is None:
        return False
    _size, correlation_id = struct.unpack(">ii", header)
    return bool(correlation_id == 1)


def redis_ping(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """Send PING and tell whether Redis answered PONG."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def http_status(url: str, timeout_s: float = 1.0) -> int | None:
    """Return the HTTP status of a GET to ``url``, or None when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - loopback http only
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
