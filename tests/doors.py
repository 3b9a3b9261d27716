"""The app's doors on the test's own connection, inside the transaction the test rolls back.

The `app` fixture hands these to the app (`get_doors` overridden), so an API test leaves
nothing behind and sees, through `db`, what its requests wrote. Each door call is a
savepoint: a request that fails is undone as its transaction would be. With RLS on, each
call takes the app's role (`comptoir_app`) and its caller as the app's pool would, then
gives them back, so the policies apply exactly as in production. Requests on one connection
take turns (a lock): concurrency is tested with real connections (`committed`).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

import asyncpg

from comptoir.db.door import APP_ROLE, Caller, Door, Query

P = ParamSpec("P")
T = TypeVar("T")

FORGET = "RESET ROLE; SELECT set_config('comptoir.user_id', '', true)"


@dataclass(frozen=True)
class ConnectionDoors:
    conn: asyncpg.Connection
    rls: bool
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    def to(self, caller: Caller) -> Door:
        return ConnectionDoor(self, caller)


@dataclass(frozen=True)
class ConnectionDoor:
    doors: ConnectionDoors
    caller: Caller

    async def one(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self.transaction() as conn:
            return await query(conn, *args, **kwargs)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        conn = self.doors.conn
        async with self.doors.turn, conn.transaction():
            if self.doors.rls:
                said = [f"SET LOCAL ROLE {APP_ROLE}", *self.caller.statements()]
                await conn.execute("; ".join(said))
            yield conn
            # Released, a savepoint keeps its SET LOCALs: give them back (a failure rolls
            # the savepoint back, and them with it).
            await conn.execute(FORGET)
