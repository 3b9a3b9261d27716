"""What must never reach PostgreSQL on the API's paths: state that outlives a transaction.

Behind PgBouncer in transaction mode each transaction may run on another server session, and
what one leaves on a session (a `SET`, `set_config(..., false)`, a session advisory lock, a
prepared statement, a `LISTEN`, a cursor WITH HOLD) lands on whichever client gets that
session next. Only the owner commands (migrations, partition upkeep, `db maintain`) may do
so, and they refuse a pooler (comptoir.db.direct).

Checked twice: statically, on every SQL text of the source outside the owner modules
(tests/pooling/test_session_state.py); dynamically, on every statement the API suite's
requests send (the `conn` fixture logs them and fails the test that sent one).
"""

import re

# SQL keywords in capitals, as the source writes them; prose ("Set a new password") is not SQL.
SESSION_STATE = re.compile(
    r"""
    # SET x = ..., SET SESSION x TO ...; the transaction's own forms pass, and RESET ROLE,
    # which ends a SET LOCAL ROLE early and leaves the login role, what a new session has
    (?:^|;)\s*SET\s+(?!LOCAL\b|CONSTRAINTS\b|TRANSACTION\b)(?:SESSION\s+)?[\w.]+\s*(?:=|TO\b|\w)
    | (?:^|;)\s*RESET\s+(?!ROLE\b)[\w.]+
    | (?:^|;)\s*(?:LISTEN|PREPARE|DISCARD)\s+\w
    | \bset_config\s*\([^()]*,\s*false\s*\)                  # the session-wide form
    | \bpg_(?:try_)?advisory_lock(?:_shared)?\s*\(           # session locks (xact ones pass)
    | \bWITH\s+HOLD\b
    """,
    re.VERBOSE,
)

# The test harness's own statement (tests/doors.py), inside the savepoint it rolls back.
HARNESS = {"RESET ROLE; SELECT set_config('comptoir.user_id', '', true)"}


# asyncpg's own, around its type introspection: JIT off for the catalogue query, then back.
# Neutral behind a pooler because the app's role has jit = off there (the pool checks it at
# start, comptoir.db.pool): the first sets what is already set, the second is never sent.
DRIVER = re.compile(r"^\s*SELECT\s+(current_setting\('jit'\) AS cur,\s+)?set_config\('jit',")


def session_state(sql: str) -> bool:
    if sql in HARNESS or DRIVER.match(sql):
        return False
    return bool(SESSION_STATE.search(sql))
