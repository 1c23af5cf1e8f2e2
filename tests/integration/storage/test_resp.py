"""The pipelined Redis connection against the real Redis: replies, order, errors, recovery."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import urlparse

import pytest
from redis.exceptions import ConnectionError, NoScriptError, ResponseError, TimeoutError

from marketpulse.settings import Settings
from marketpulse.storage.cache import connect
from marketpulse.storage.resp import PipelinedRedis
from tests.workers import free_port


def key() -> str:
    return f"test:resp:{uuid.uuid4().hex}"


async def test_each_reply_type(redis: PipelinedRedis) -> None:
    k, h = key(), key()
    assert await redis.execute("SET", k, "v", "EX", 60) == b"OK"
    assert await redis.execute("GET", k) == b"v"
    assert await redis.execute("GET", key()) is None
    assert await redis.execute("INCRBY", h + ":n", -3) == -3
    await redis.execute("HSET", h, "a", b"\x00\r\n", "b", 2)
    assert sorted(await redis.execute("HGETALL", h)) == [b"\x00\r\n", b"2", b"a", b"b"]
    assert await redis.execute("LRANGE", key(), 0, -1) == []
    await redis.execute("DEL", h, h + ":n", k)


async def test_concurrent_commands_get_their_own_replies(redis: PipelinedRedis) -> None:
    base = key()
    await asyncio.gather(*(redis.execute("SET", f"{base}:{i}", i, "EX", 60) for i in range(500)))
    replies = await asyncio.gather(*(redis.execute("GET", f"{base}:{i}") for i in range(500)))
    assert replies == [str(i).encode() for i in range(500)]


async def test_a_reply_split_over_many_reads(redis: PipelinedRedis) -> None:
    k, big = key(), bytes(range(256)) * 8192  # 2 MiB, with every byte value and CRLFs
    await redis.execute("SET", k, big, "EX", 60)
    assert await redis.execute("GET", k) == big
    await redis.execute("DEL", k)


async def test_error_replies_raise_redis_py_errors(redis: PipelinedRedis) -> None:
    k = key()
    await redis.execute("SET", k, "text", "EX", 60)
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await redis.execute("HGET", k, "field")
    with pytest.raises(NoScriptError):
        await redis.execute("EVALSHA", "0" * 40, 1, k)
    assert await redis.execute("GET", k) == b"text"  # still in step after the errors


async def test_a_script_is_run_by_its_sha_and_loaded_again_when_forgotten(
    services: Settings, redis: PipelinedRedis
) -> None:
    k, script = key(), "return redis.call('INCRBY', KEYS[1], ARGV[1])"
    assert await redis.run(script, [k], [2]) == 2
    other = connect(services.redis_url)
    try:
        await other.script_flush()
        assert await redis.run(script, [k], [3]) == 5
        assert await other.get(k) == b"5"
    finally:
        await other.delete(k)
        await other.aclose()


async def test_a_killed_connection_fails_what_is_in_flight_and_the_next_command_reconnects(
    services: Settings, redis: PipelinedRedis
) -> None:
    mine = await redis.execute("CLIENT", "ID")
    blocked = asyncio.ensure_future(redis.execute("BLPOP", key(), 30))
    other = connect(services.redis_url)
    try:
        deadline = time.monotonic() + 5
        while b"cmd=blpop" not in await other.execute_command("CLIENT", "LIST", "ID", mine):
            assert time.monotonic() < deadline, "the BLPOP never reached Redis"
            await asyncio.sleep(0.01)
        await other.execute_command("CLIENT", "KILL", "ID", mine)
    finally:
        await other.aclose()
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(blocked, 5)
    assert await redis.execute("PING") == b"PONG"
    assert await redis.execute("CLIENT", "ID") != mine


async def test_an_unanswered_command_times_out_and_the_connection_is_replaced(
    services: Settings,
) -> None:
    redis = PipelinedRedis(services.redis_url, timeout_s=0.3)
    try:
        first = await redis.execute("CLIENT", "ID")
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await redis.execute("BLPOP", key(), 10)
        assert time.monotonic() - started < 2
        assert await redis.execute("CLIENT", "ID") != first
    finally:
        await redis.close()


async def test_database_from_the_url(services: Settings) -> None:
    k = key()
    url = urlparse(services.redis_url)._replace(path="/3").geturl()
    redis, other = PipelinedRedis(url), connect(url)
    try:
        await redis.execute("SET", k, "in three", "EX", 60)
        assert await other.get(k) == b"in three"
    finally:
        await other.delete(k)
        await other.aclose()
        await redis.close()


async def test_nothing_listens() -> None:
    redis = PipelinedRedis(f"redis://127.0.0.1:{free_port()}", timeout_s=1)
    with pytest.raises(ConnectionError):
        await redis.execute("PING")
