"""The tests past one machine spawn real servers (PgBouncer, HAProxy, Redis, PostgreSQL
clusters, `comptoir serve`): a minute or two. CI runs them once, in its last pass, and sets
COMPTOIR_POOLING_TESTS=skip for the others (.ci/run); unset, they run."""

import os

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("COMPTOIR_POOLING_TESTS") != "skip":
        return
    skip = pytest.mark.skip(reason="COMPTOIR_POOLING_TESTS=skip: CI runs these in pass 3")
    for item in items:
        if "tests/pooling/" in item.nodeid and "test_session_state" not in item.nodeid:
            item.add_marker(skip)
