"""One door to the database, two verbs.

A request reaches PostgreSQL through a `Door` bound to its caller, which a route takes as a
dependency (`comptoir.deps`: `PublicDb`, `CustomerDb`, `StaffDb`):

- `await db.one(queries.fetch_x, key=...)` runs a query function that sends exactly one
  statement. One statement is atomic by itself; with row-level security on, the door says
  whom it serves first, in the same transaction.
- `async with db.transaction() as conn:` is a real transaction, in both RLS modes, for a
  use case of several statements that must stand or fall together (`service.py`). Inside
  it, `conn.transaction()` is a savepoint.

Nothing here changes meaning with COMPTOIR_RLS: what is atomic is what the code says. The
setting only decides whether the door tells PostgreSQL whom it serves (docs/rls.md): the
customer's id with `set_config('comptoir.user_id', ..., true)` and, for the back office,
`SET LOCAL ROLE comptoir_staff`; both end with the transaction, so a pooled connection never
carries one request's caller into the next.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, Protocol, TypeVar, cast
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

STAFF_ROLE = "comptoir_staff"
# The role the app logs in as with RLS on: tests that run the app on their own connection
# take it too, so the policies apply to them as to the app.
APP_ROLE = "comptoir_app"

P = ParamSpec("P")
T = TypeVar("T")
Query = Callable[Concatenate[asyncpg.Connection, P], Awaitable[T]]


@dataclass(frozen=True)
class Caller:
    """Whom the SQL serves: a customer (their rows), and whether the back office's policies
    apply (admins, the payment provider, the background upkeep)."""

    user_id: UUID | None = None
    staff: bool = False

    def statements(self) -> list[str]:
        # Spliced into simple-protocol SQL: a UUID's text and a constant role name only,
        # nothing a client wrote.
        said = []
        if self.staff:
            said.append(f"SET LOCAL ROLE {STAFF_ROLE}")
        if self.user_id is not None:
            said.append(f"SELECT set_config('comptoir.user_id', '{UUID(str(self.user_id))}', true)")
        return said


PUBLIC = Caller()
SYSTEM = Caller(staff=True)


def customer(user_id: UUID, role: str) -> Caller:
    """A signed-in caller: their own rows, and every order and event if they are an admin."""
    return Caller(user_id=user_id, staff=role == "admin")


class Door(Protocol):
    """The database as one caller reaches it: the two verbs."""

    async def one(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `query`, a function that sends one statement."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A connection inside a transaction that serves the caller: committed when the
        block ends, rolled back if it raises."""
        ...


class Doors(Protocol):
    """Where the doors come from: the app's pool, or a test's connection."""

    def to(self, caller: Caller) -> Door: ...


def _connection(proxy: PoolConnectionProxy) -> asyncpg.Connection:
    """The pooled connection as the query functions take it. asyncpg documents what its
    pool hands out as a Connection, and at run time it is one (the proxy forwards every
    attribute, and `isinstance(proxy, asyncpg.Connection)` is true by asyncpg's
    ConnectionMeta); asyncpg-stubs declares the proxy a class of its own, so this says what
    asyncpg does rather than making every query function take a union."""
    return cast(asyncpg.Connection, proxy)


@dataclass(frozen=True)
class PoolDoor:
    """The app's pool as `caller` reaches it."""

    pool: asyncpg.Pool
    caller: Caller
    rls: bool

    def _said(self) -> list[str]:
        return self.caller.statements() if self.rls else []

    async def one(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """With nothing to say (RLS off, or an anonymous caller, whom the policies already
        deny), the statement on a pooled connection in autocommit; otherwise `BEGIN` and
        the caller in one round trip, the statement, `COMMIT`."""
        said = self._said()
        async with self.pool.acquire() as proxy:
            conn = _connection(proxy)
            if not said:
                return await query(conn, *args, **kwargs)
            await conn.execute("; ".join(["BEGIN", *said]))
            try:
                result = await query(conn, *args, **kwargs)
            except BaseException:
                # A broken connection cannot roll back; the pool discards it.
                with suppress(Exception):
                    await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")
            return result

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as proxy, proxy.transaction():
            if said := self._said():
                await proxy.execute("; ".join(said))
            yield _connection(proxy)


@dataclass(frozen=True)
class PoolDoors:
    """The app's doors: one pool per process."""

    pool: asyncpg.Pool
    rls: bool

    def to(self, caller: Caller) -> Door:
        return PoolDoor(self.pool, caller, self.rls)
