"""Redis: the latest quote, bar and indicators per symbol, and the API's response cache.

Keys follow docs/architecture.md: ``market_data:{symbol}:{data_type}:{granularity}``
(data_type ``quote``, ``bar`` or ``indicators``; quotes use granularity ``tick``) and
``api_cache:{hash}``.

A latest value is a hash with ``data`` (the record's JSON) and ``order`` (its event time, zero
padded, then the bar revision), set by a Lua script only when the new order is not older: a
redelivered or late record never replaces a newer one. Each symbol has a generation counter
``cache_gen:{symbol}``, raised whenever its data changes; response-cache keys include the
generations of the symbols they cover, so new data makes old responses unreachable at once,
without scanning for keys (they expire on their TTL). ``api_url:{hash of a route and URL}`` links a
request's URL, once validated, to its response's digest and symbols, so that it can be found
again without validating the request (``marketpulse.api.caching``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from marketpulse.analytics.granularity import parse_granularity
from marketpulse.errors import StoreError
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.events import Quote
from marketpulse.storage.resp import PipelinedRedis

QUOTE_TTL_S = 300
MIN_TTL_S, MAX_TTL_S = 300, 3600  # the contract: 5 to 60 minutes
GENERATION_TTL_S = 7 * 86_400

_SET_IF_NEWER = """
local current = redis.call('HGET', KEYS[1], 'order')
if current and current > ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'order', ARGV[1], 'data', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""

Latest = Quote | Bar | IndicatorSnapshot


def latest_key(symbol: str, data_type: str, granularity: str) -> str:
    """``market_data:{symbol}:{data_type}:{granularity}``."""
    return f"market_data:{symbol}:{data_type}:{granularity}"


def granularity_ttl(granularity: str) -> int:
    """Two bar lengths, kept between 5 and 60 minutes."""
    seconds = 2 * parse_granularity(granularity) // 1_000_000_000
    return max(MIN_TTL_S, min(MAX_TTL_S, seconds))


def describe(record: Latest) -> tuple[str, str, int]:
    """A record's cache key, order string and TTL."""
    if isinstance(record, Quote):
        return latest_key(record.symbol, "quote", "tick"), f"{record.ts:020d}", QUOTE_TTL_S
    if isinstance(record, Bar):
        key = latest_key(record.symbol, "bar", record.granularity)
        return key, f"{record.start:020d}{record.revision:06d}", granularity_ttl(record.granularity)
    key = latest_key(record.symbol, "indicators", record.granularity)
    return key, f"{record.bar_start:020d}", granularity_ttl(record.granularity)


def connect(url: str) -> aioredis.Redis:
    """A client with short timeouts: the cache is best effort and must not stall its callers."""
    return aioredis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)


class LatestCache:
    """The newest record of each kind per symbol."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._script = client.register_script(_SET_IF_NEWER)

    async def put(self, records: Iterable[Latest]) -> int:
        """Store each record unless a newer one is there; raise the symbols' generations.
        Return how many keys changed."""
        newest: dict[str, tuple[str, bytes, int]] = {}
        symbols: set[str] = set()
        for record in records:
            key, order, ttl = describe(record)
            if key not in newest or newest[key][0] <= order:
                newest[key] = (order, record.model_dump_json().encode(), ttl)
            symbols.add(record.symbol)
        if not newest:
            return 0
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, (order, data, ttl) in newest.items():
                    await self._script(keys=[key], args=[order, data, ttl], client=pipe)
                for symbol in sorted(symbols):
                    pipe.incr(_generation_key(symbol))
                    pipe.expire(_generation_key(symbol), GENERATION_TTL_S)
                results = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise StoreError(f"Redis: {exc}", retriable=True) from exc
        return sum(1 for r in results[: len(newest)] if r == 1)


class LatestReader:
    """The API's side of :class:`LatestCache`: reads, on the pipelined connection."""

    def __init__(self, client: PipelinedRedis) -> None:
        self.client = client

    async def get(self, symbol: str, data_type: str, granularity: str) -> dict[str, Any] | None:
        """The stored record as a dict, or None."""
        return _record(await self._data(latest_key(symbol, data_type, granularity)))

    async def get_many(
        self, symbols: Sequence[str], data_type: str, granularity: str
    ) -> list[dict[str, Any] | None]:
        """The stored records of several symbols (pipelined), None where missing."""
        keys = [latest_key(symbol, data_type, granularity) for symbol in symbols]
        return [_record(data) for data in await asyncio.gather(*map(self._data, keys))]

    async def _data(self, key: str) -> bytes | None:
        try:
            return cast(bytes | None, await self.client.execute("HGET", key, "data"))
        except (RedisError, OSError) as exc:
            raise StoreError(f"Redis: {exc}", retriable=True) from exc


def _record(data: bytes | None) -> dict[str, Any] | None:
    return None if data is None else dict(orjson.loads(data))


def _generation_key(symbol: str) -> str:
    return f"cache_gen:{symbol}"


def _digest(endpoint: str, params: Mapping[str, Any], symbols: Sequence[str]) -> str:
    material = orjson.dumps([endpoint, sorted(params.items()), list(symbols)], default=str)
    return hashlib.sha256(material).hexdigest()


def _url_key(url: str) -> str:
    return f"api_url:{hashlib.sha256(url.encode()).hexdigest()}"


# One round trip: read the symbols' generations, build the key from them, read the response.
# (The response key is made inside the script, so this assumes one Redis node, not a cluster.)
_LOOKUP = """
local generations = {}
for i, key in ipairs(KEYS) do generations[i] = redis.call('GET', key) or '0' end
local key = 'api_cache:' .. ARGV[1] .. ':' .. table.concat(generations, '.')
return {key, redis.call('GET', key)}
"""

# The same from a URL's link, "digest also symbol...": {also, body}, or nil on a miss.
# ARGV[1] is the generation keys' prefix.
_BY_URL = """
local link = redis.call('GET', KEYS[1])
if not link then return nil end
local words = {}
for word in string.gmatch(link, '%S+') do words[#words + 1] = word end
local generations = {}
for i = 3, #words do
  generations[#generations + 1] = redis.call('GET', ARGV[1] .. words[i]) or '0'
end
local body = redis.call('GET', 'api_cache:' .. words[1] .. ':' .. table.concat(generations, '.'))
if not body then return nil end
return {words[2], body}
"""
_NOTHING = "-"  # a link's ``also`` when there is none


class ResponseCache:
    """API responses under ``api_cache:{hash}:{generations}``, where the hash covers the
    endpoint and its parameters and the generations are those of the symbols covered: new data
    for a symbol makes its cached responses unreachable at once.

    Callers treat a :class:`StoreError` as a miss: the cache must never fail a request.
    """

    def __init__(self, client: PipelinedRedis) -> None:
        self.client = client

    async def get(
        self, endpoint: str, params: Mapping[str, Any], symbols: Sequence[str]
    ) -> tuple[str, bytes | None]:
        """The response's key and its cached body (None on a miss); store under that key."""
        keys = [_generation_key(s) for s in symbols]
        digest = _digest(endpoint, params, symbols)
        try:
            reply = await self.client.run(_LOOKUP, keys, [digest])
        except (RedisError, OSError) as exc:
            raise StoreError(f"Redis: {exc}", retriable=True) from exc
        key, value = cast(list[bytes | None], reply)
        return (key or b"").decode(), value

    async def link(
        self,
        url: str,
        endpoint: str,
        params: Mapping[str, Any],
        symbols: Sequence[str],
        ttl_s: int,
        also: str | None = None,
    ) -> None:
        """Point a request's URL at the response its validated parameters have (see
        :meth:`by_url`), for ``ttl_s`` seconds; ``also`` is kept with it (an action name)."""
        link = " ".join([_digest(endpoint, params, symbols), also or _NOTHING, *symbols])
        try:
            await self.client.execute("SET", _url_key(url), link, "EX", ttl_s)
        except (RedisError, OSError) as exc:
            raise StoreError(f"Redis: {exc}", retriable=True) from exc

    async def by_url(self, url: str) -> tuple[bytes, str | None] | None:
        """The cached body a linked URL points at, under its symbols' current generations, and
        the link's ``also``: None when the URL has no link or the response is gone or outdated."""
        try:
            reply = await self.client.run(_BY_URL, [_url_key(url)], [_generation_key("")])
        except (RedisError, OSError) as exc:
            raise StoreError(f"Redis: {exc}", retriable=True) from exc
        if reply is None:
            return None
        also, body = cast(list[bytes], reply)
        return body, (None if also == _NOTHING.encode() else also.decode())

    async def put(self, key: str, body: bytes, ttl_s: int) -> None:
        """Cache a body under the key :meth:`get` gave, for ``ttl_s`` seconds."""
        try:
            await self.client.execute("SET", key, body, "EX", ttl_s)
        except (RedisError, OSError) as exc:
            raise StoreError(f"Redis: {exc}", retriable=True) from exc
