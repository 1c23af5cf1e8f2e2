"""TOTP second factor (RFC 6238: 6 digits, 30-second steps, SHA-1, as authenticator apps use).

A code is accepted one step either side of now, for clock drift; the step it matched is
returned so the caller can refuse a second use of the same code.
"""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp

ISSUER = "marketpulse"


def new_secret() -> str:
    """A random base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def matched_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step ``code`` is valid for (now, or one step either side), or None."""
    totp = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        moment = now + dt.timedelta(seconds=drift * totp.interval)
        if hmac.compare_digest(totp.at(moment), code):
            return int(totp.timecode(moment))
    return None
