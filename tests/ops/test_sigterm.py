"""SIGTERM drains: `comptoir serve` stops taking connections and finishes the checkouts in
flight (they commit and answer 201) before it exits."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

from comptoir.auth.security import issue_token
from tests.conftest import TABLES
from tests.factories import make_cart, make_product, make_user
from tests.ops.test_pool_and_restart import wait_for_lock_waiters
from tests.support.ports import free_port

SECRET = "sigterm-test-secret-" + "s" * 32
BUYERS = 3


def start_server(database_url: str, tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "COMPTOIR_DATA_DIR": str(tmp_path),
        "COMPTOIR_JWT_SECRET": SECRET,
        "COMPTOIR_RATE_LIMITS": "off",
        "COMPTOIR_LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "comptoir", "serve", "--no-migrate", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None  # stdout=PIPE
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError("serve did not become ready")


async def test_sigterm_lets_the_checkouts_in_flight_complete(
    database_url: str, committed: asyncpg.Connection, tmp_path: Path
) -> None:
    lamp = await make_product(
        committed, name=f"Lampe {uuid.uuid4().hex[:6]}", price=Decimal("9.50")
    )
    buyers = [await make_user(committed) for _ in range(BUYERS)]
    for buyer in buyers:
        await make_cart(committed, buyer, lines={lamp: 1})
    process, base = await asyncio.to_thread(start_server, database_url, tmp_path)
    blocker = await asyncpg.connect(database_url)
    try:
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("SELECT 1 FROM products WHERE id = $1 FOR UPDATE", lamp)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            checkouts = [asyncio.create_task(checkout(client, buyer)) for buyer in buyers]
            await wait_for_lock_waiters(committed, BUYERS)  # all three are inside place_order

            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            refused = await new_connection_refused(base)
            await lock.rollback()
            answers = await asyncio.gather(*checkouts)
        output, _ = await asyncio.to_thread(process.communicate, timeout=30)
    finally:
        await blocker.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    try:
        await check_drained(committed, process, answers, refused, output, buyers, lamp)
    finally:
        await committed.execute(f"TRUNCATE {TABLES}, idempotency_keys CASCADE")


async def check_drained(
    committed: asyncpg.Connection,
    process: subprocess.Popen[str],
    answers: list[httpx.Response],
    refused: bool,
    output: str,
    buyers: list[uuid.UUID],
    lamp: uuid.UUID,
) -> None:
    assert [a.status_code for a in answers] == [201] * BUYERS, [a.text for a in answers]
    assert refused, "the server still took new connections after SIGTERM"
    assert process.returncode == 0, output
    # uvicorn's own lines are structured like the request lines (COMPTOIR_LOG_FORMAT=json).
    started = next(line for line in output.splitlines() if "startup complete" in line)
    assert json.loads(started)["logger"] == "uvicorn.error", started
    drained = [
        json.loads(line) for line in output.splitlines() if '"route": "/v1/checkout"' in line
    ]
    assert [line["status"] for line in drained] == [201] * BUYERS
    placed = await committed.fetchval(
        "SELECT count(*) FROM orders WHERE user_id = ANY($1::uuid[])", buyers
    )
    assert placed == BUYERS
    assert await committed.fetchval("SELECT stock FROM products WHERE id = $1", lamp) == 10 - BUYERS


async def checkout(client: httpx.AsyncClient, buyer: uuid.UUID) -> httpx.Response:
    token, _ = issue_token(SECRET, user_id=buyer, generation=0, ttl=300)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    return await client.post("/v1/checkout", headers=headers)


async def new_connection_refused(base: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as fresh:
            await fresh.get("/healthz")
    except httpx.TransportError:
        return True
    return False
