"""Share 2 of 3 of the HTTP surface, fuzzed by schemathesis with an admin's token
(fuzzing.py says how and why it is shared out)."""

from schemathesis import BaseSchema

from tests.factories import Account
from tests.fuzz.fuzzing import Live, fuzz_as_admin


def test_share_2_of_the_api_answers_as_its_document_says(
    api_schema: BaseSchema, live: Live, admin: Account
) -> None:
    fuzz_as_admin(api_schema, live, admin, 1)
