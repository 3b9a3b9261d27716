"""Revisions are plain SQL scripts, run as one simple-protocol batch on the migration's
connection, inside the migration's transaction."""

from alembic import op
from sqlalchemy.util import await_only


def run_sql(script: str) -> None:
    # SQLAlchemy's asyncpg adapter prepares every statement, and a prepared statement holds
    # one command; the driver connection's execute() without arguments takes a whole script.
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    await_only(driver.execute(script))
