"""Who a request's SQL runs as, when row-level security is on (docs/rls.md).

With COMPTOIR_RLS=on the pool logs in as `comptoir_app`, and the policies of migration 0006
show a transaction only the rows of the customer it names: `comptoir.user_id`, set with
`set_config(..., true)`, which ends with the transaction, so a pooled connection never
carries one request's customer into the next. Admin routes and the webhook also take
`SET LOCAL ROLE comptoir_staff`. A statement run outside such a transaction sees none of
those rows: forgetting the context denies, it never leaks.

With RLS off the pool logs in as the schema's owner (not subject to the policies) and
`Database` runs statements exactly as before: straight on the pool, no transaction added.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import Depends, Request

from comptoir.db.pool import Executor

STAFF_ROLE = "comptoir_staff"


@dataclass(frozen=True)
class Context:
    """The customer served (None: nobody) and whether the back office's policies apply."""

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


ANONYMOUS = Context()
# The payment provider's webhook: every order, no customer.
SYSTEM = Context(staff=True)


def of_user(user_id: UUID, role: str) -> Context:
    """A signed-in caller: their own rows, and every order and event if they are an admin."""
    return Context(user_id=user_id, staff=role == "admin")


@dataclass(frozen=True)
class Database:
    """The app's pool, and whether its transactions must say who they serve."""

    pool: asyncpg.Pool
    rls: bool

    @asynccontextmanager
    async def scoped(self, context: Context) -> AsyncIterator[Executor]:
        """Statements run as `context`. RLS off: the pool itself, each statement its own
        transaction, as without this. RLS on: one connection, one transaction, begun and
        given its context in a single round trip (simple protocol), committed on the way
        out, rolled back on an exception. No `conn.transaction()` inside (see
        `transaction`). Nothing to say (anonymous): the pool as well, since saying nothing
        already denies. Hot routes avoid both round trips by calling a function that sets
        the context inside their one statement (the cart, checkout: docs/rls.md)."""
        said = context.statements()
        if not self.rls or not said:
            yield self.pool
            return
        async with self.pool.acquire() as conn:
            try:
                await conn.execute("; ".join(["BEGIN", *said]))
                yield conn
            except BaseException:
                # A broken connection cannot roll back; the pool discards it.
                with suppress(Exception):
                    await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")

    @asynccontextmanager
    async def transaction(self, context: Context) -> AsyncIterator[asyncpg.Connection]:
        """A connection in `conn.transaction()` run as `context`, for services that nest
        savepoints (`conn.transaction()` again) inside. One round trip more than `scoped`
        with RLS on; the same as before with RLS off."""
        async with self.pool.acquire() as conn, conn.transaction():
            if self.rls and (said := context.statements()):
                await conn.execute("; ".join(said))
            yield conn


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


Db = Annotated[Database, Depends(get_database)]
