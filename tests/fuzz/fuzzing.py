"""Property-based test of the whole HTTP surface against its own OpenAPI document.

Schemathesis reads /openapi.json from the real app (uvicorn in a thread, with its lifespan and
asyncpg pool) and sends every operation generated requests, valid ones then invalid ones. No
answer may be a 5xx, and every answer must match what the document says of it: the body
against the response schema, the content type against the documented media types.

Requests carry an admin's bearer token, so protected routes are exercised past the 401 (the
invalid cases include some that schemathesis sends without any token, on purpose). Operations
with an id in their path also get valid requests that name rows that exist: generated ids
would only ever find 404.

Some operations would end the admin's token and turn the rest of the run into 401s: `PUT
/v1/me/password` (it revokes every token of the user), `POST /v1/auth/logout` and `DELETE
/v1/auth/session` (they revoke the token). They are left out of the admin run and fuzzed
in `test_token_ending_operations`, where every generated request gets a throwaway account
of its own. Nothing else can lock the admin out: the app refuses to let an admin demote or
delete their own account (409), and `test_the_admin_is_still_signed_in` checks it after
the run.

The operations are shared out among the modules of this folder (`shard`), so that pytest-xdist
runs them on several workers at once: the whole surface is the longest single test of the
suite. Each module has its own live server (the fixtures in conftest.py).

Why not `schemathesis.pytest.from_fixture`: with pytest 9.2 its lazy loader fails on
`request.node._nodeid` (an attribute pytest no longer has), so the operations are walked here
with the documented `APIOperation.as_strategy()` and Hypothesis' `@given`.
"""

import asyncio
import os
import threading
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import asyncpg
import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.factories import Account, make_cart, make_product, make_user

T = TypeVar("T")

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
TOKEN_ENDING = {
    ("PUT", "/v1/me/password"),
    ("POST", "/v1/auth/logout"),
    ("DELETE", "/v1/auth/session"),
    ("POST", "/v1/me/erasure"),
}

# 25 generated requests per operation and mode in CI; the long run (bench/README.md, "Full
# schemathesis run") sets COMPTOIR_FUZZ_EXAMPLES to a few hundred.
FUZZ = settings(
    max_examples=int(os.environ.get("COMPTOIR_FUZZ_EXAMPLES", "25")),
    deadline=None,
    derandomize=True,  # the same requests every run: a failure here reproduces
    database=None,
    suppress_health_check=list(HealthCheck),
    # Generate only: shrinking a failure means more real requests, unbounded; the report keeps
    # the failing request (as curl), and derandomize makes the same run find it again.
    phases=[Phase.explicit, Phase.generate],
)

# schemathesis hands out its operations and cases unparametrized (get_all_operations,
# as_strategy): their type parameters are Any there, spelled out here for --strict.
Operation = APIOperation[Any, Any, Any, Any]
OperationCase = Case[Operation]


def on_database(
    database_url: str, work: Callable[[asyncpg.Connection], Coroutine[Any, Any, T]]
) -> T:
    """Run `work` on a connection of its own, from sync code, in a thread with its own event
    loop (pytest-asyncio's session loop is not running while a sync test runs)."""
    outcome: list[T] = []
    errors: list[BaseException] = []

    async def main() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            outcome.append(await work(conn))
        finally:
            await conn.close()

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return outcome[0]


async def new_users(conn: asyncpg.Connection, count: int) -> list[uuid.UUID]:
    return [
        await make_user(conn, email=f"fuzz-{uuid.uuid4().hex}@example.com") for _ in range(count)
    ]


@dataclass(frozen=True)
class Live:
    url: str
    jwt_secret: str
    database_url: str


async def seed(conn: asyncpg.Connection, admin: uuid.UUID) -> None:
    """Something to list, search, show and hold in a cart, hidden products included."""
    lamp = await make_product(conn, name="Lampe de bureau", price=Decimal("24.90"))
    await conn.execute(
        "UPDATE products SET sku = 'LAMP-1', compare_at_price = 29.90,"
        " images = ARRAY['https://cdn.example.com/lamp.jpg'],"
        ' attributes = \'{"brand": "Hay", "categories": ["Luminaires"]}\''
        " WHERE id = $1",
        lamp,
    )
    await make_product(conn, name="Chaise pliante", stock=0)
    await make_product(conn, name="Table basse", active=False)
    gone = await make_product(conn, name="Armoire")
    await conn.execute("UPDATE products SET deleted_at = now() WHERE id = $1", gone)
    await make_cart(conn, admin, lines={lamp: 2, gone: 1})


async def existing_ids(conn: asyncpg.Connection) -> dict[str, str]:
    """A product and a customer that exist, for the ids in paths."""
    return {
        "product_id": str(await make_product(conn, stock=1000)),
        "user_id": str(await make_user(conn)),
    }


def operations(schema: BaseSchema, *, token_ending: bool) -> list[Operation]:
    found = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise result.err()  # an operation schemathesis cannot read: a defect of the document
        operation = result.ok()
        if ((operation.method.upper(), operation.path) in TOKEN_ENDING) == token_ending:
            found.append(operation)
    return found


def run_cases(
    strategy: SearchStrategy[OperationCase],
    call: Callable[[OperationCase], Response],
    seen: set[int],
) -> None:
    @FUZZ
    @given(case=strategy)
    def run(case: OperationCase) -> None:
        seen.add(call(case).status_code)

    run()


def fuzz(
    operations: list[Operation],
    call: Callable[[OperationCase], Response],
    existing: Callable[[], dict[str, str]] | None = None,
) -> None:
    """Send each operation valid then invalid generated requests, and report every failure.
    `existing()` gives ids of rows that exist, fresh for each operation (a run may delete its
    row), for a third run of valid requests aimed at them."""
    failures = []
    failed: set[str] = set()
    statuses: dict[str, set[int]] = {}
    for operation in operations:
        seen = statuses.setdefault(operation.label, set())
        runs = [
            ("positive", operation.as_strategy(GenerationMode.POSITIVE)),
            ("negative", operation.as_strategy(GenerationMode.NEGATIVE)),
        ]
        ids = existing() if existing else {}
        if fixed := {name: v for name, v in ids.items() if f"{{{name}}}" in operation.path}:
            runs.append(("existing ids", operation.as_strategy(path_parameters=fixed)))
        for name, strategy in runs:
            try:
                run_cases(strategy, call, seen)
            # Schemathesis raises a FailureGroup (a BaseExceptionGroup) for check failures.
            except (Exception, BaseExceptionGroup) as exc:
                if isinstance(exc, Unsatisfiable) and name == "negative":
                    continue  # an operation without any input (/healthz) has no invalid request
                failures.append(f"=== {operation.label} ({name} cases)\n{exc}")
                failed.add(operation.label)
        # The token must have carried a protected operation past authentication, at times.
        if operation.definition.raw.get("security") and operation.label not in failed:
            if seen <= {401}:
                failures.append(f"=== {operation.label}: every answer was 401 {sorted(seen)}")
    assert not failures, f"{len(failures)} failing run(s):\n\n" + "\n\n".join(failures)


SHARDS = 3


def shard(schema: BaseSchema, number: int) -> list[Operation]:
    """The `number`th of SHARDS even shares of the admin-run operations, by label: the same
    share every run, and every operation in exactly one."""
    chosen = sorted(operations(schema, token_ending=False), key=lambda op: op.label)
    assert len(chosen) >= 18, [op.label for op in chosen]
    return chosen[number::SHARDS]


def fuzz_as_admin(schema: BaseSchema, live: Live, admin: Account, number: int) -> None:
    """Shard `number` of the surface, fuzzed with the admin's token, then the admin checked
    still signed in (nothing in the run may lock them out)."""
    on_database(live.database_url, lambda conn: seed(conn, admin.id))

    def call(case: OperationCase) -> Response:
        return case.call_and_validate(headers=admin.headers, checks=CHECKS, timeout=30)

    fuzz(shard(schema, number), call, existing=lambda: on_database(live.database_url, existing_ids))
    response = httpx.get(f"{live.url}/v1/me", headers=admin.headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "admin"
