"""Stock updates stay HOT: no index mentions `products.stock`.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-25

Every checkout, cancellation and restock writes `products.stock`. PostgreSQL can rewrite
such a row in place on its page (a HOT update, touching no index) only when no index
mentions a changed column, in its key or in its predicate. Revision 0016's
`products_low_stock_idx (stock, id)` did: with it, each stock change inserted an entry into
every one of the products' ten indexes, the three GIN ones (search document, attributes,
trigram name) included, while the product locks were held: in the checkout benchmark
(pg_stat_statements, same machine and load) the stock update's mean was 1.1 to 1.9 ms with
it and 0.35 ms without.

The back office's low-stock list (8 rows, on the dashboard) reads the products on sale and
keeps the lowest eight as it goes (a top-N sort): 25 to 30 ms for 100,000 products, paid
on a dashboard load rather than on every sale.
"""

from comptoir.db.migrations.sql import run_sql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("DROP INDEX products_low_stock_idx;")


def downgrade() -> None:
    run_sql(
        "CREATE INDEX products_low_stock_idx ON products (stock, id)"
        " WHERE deleted_at IS NULL AND active;"
    )
