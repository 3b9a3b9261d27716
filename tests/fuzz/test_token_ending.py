"""The operations that end the caller's token (fuzzing.py, TOKEN_ENDING), fuzzed with a
throwaway account per request."""

from schemathesis import BaseSchema, Response

from comptoir.auth.security import issue_token
from tests.factories import make_user
from tests.fuzz.fuzzing import (
    CHECKS,
    FUZZ,
    TOKEN_ENDING,
    Live,
    OperationCase,
    fuzz,
    new_users,
    on_database,
    operations,
)


def test_token_ending_operations(api_schema: BaseSchema, live: Live) -> None:
    chosen = operations(api_schema, token_ending=True)
    assert {(op.method.upper(), op.path) for op in chosen} == TOKEN_ENDING
    # A throwaway customer per request (made up front: one connection for all of them), with a
    # token from the app's own issuer (logging in would cost an argon2 verification each).
    count = len(chosen) * 2 * FUZZ.max_examples
    users = iter(on_database(live.database_url, lambda conn: new_users(conn, count)))

    def call(case: OperationCase) -> Response:
        user = next(users, None) or on_database(live.database_url, make_user)
        token, _ = issue_token(live.jwt_secret, user_id=user, generation=0, ttl=300)
        return case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"}, checks=CHECKS, timeout=30
        )

    fuzz(chosen, call)
