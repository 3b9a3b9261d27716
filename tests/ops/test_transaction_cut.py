"""A transaction whose connection dies under it (PostgreSQL stopped or restarted, the
session terminated) is 503 with Retry-After, like a single statement's: asyncpg then
reports the failed rollback ("the underlying connection is closed"), not a PostgreSQL
error. The chaos run found it as 500s on the payment webhook."""

import asyncio
from decimal import Decimal

import asyncpg
import httpx

from comptoir.app import create_app
from comptoir.settings import Settings
from tests.factories import make_order, make_product, make_user, minted
from tests.ops.test_pool_and_restart import wait_for_lock_waiters


async def test_a_transaction_cut_by_a_dying_session_is_503(
    settings: Settings, committed: asyncpg.Connection
) -> None:
    app = create_app(settings)
    product = await make_product(committed, stock=5)
    buyer = await make_user(committed)
    order = await make_order(committed, buyer, lines={product: (1, Decimal("9.90"))})
    admin = await make_user(committed, email="cut-admin@example.com", role="admin")
    blocker = await asyncpg.connect(settings.database_url)
    try:
        async with app.router.lifespan_context(app):
            account = minted(app, admin, "cut-admin@example.com")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                # The admin's move waits on the order's lock, inside its transaction...
                lock = blocker.transaction()
                await lock.start()
                await blocker.execute("SELECT 1 FROM orders WHERE id = $1 FOR UPDATE", order)
                path = f"/v1/admin/orders/{order}/status"
                move = asyncio.create_task(
                    client.post(path, json={"status": "cancelled"}, headers=account.headers)
                )
                await wait_for_lock_waiters(committed, 1)
                # ...when its session is terminated (what a restart does to every session).
                await committed.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                answer = await move
                await lock.rollback()
    finally:
        await blocker.close()
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"]
    assert await committed.fetchval("SELECT status::text FROM orders") == "pending"
