"""Run `comptoir import-json` over a folder of real legacy stores and print what each gave.

    DATABASE_URL=postgresql://... python bench/real_stores.py [STORES] [--map-dir DIR]

STORES is a folder with one store per subfolder, each a legacy store as its shop had it
(a data directory or a db.json). Each store is imported into the database at DATABASE_URL,
which is emptied before each store: use a scratch database. A mapping file
`<store name>.toml` in --map-dir is used when present. Not part of the test suite: the
stores are not ours to copy, so this only reads them where they are.
"""

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import asyncpg

from comptoir.db import migrate
from comptoir.importer import mapping as import_mapping
from comptoir.importer.run import import_store

TABLES = (
    "users, products, carts, cart_items, orders, order_items, leads, analytics_events,"
    " import_sources"
)


async def one(url: str, store: Path, map_file: Path | None) -> str:
    conn = await asyncpg.connect(url)
    await conn.execute(f"TRUNCATE {TABLES} CASCADE")
    await conn.close()
    rejects = Path(tempfile.gettempdir()) / f"rejects-{store.name}.jsonl"
    try:
        report = await import_store(
            url, store, rejects_path=rejects, mapping=import_mapping.load(map_file)
        )
    except Exception as error:  # one store's failure must not stop the others
        return f"| {store.name} | error: {type(error).__name__}: {str(error)[:80]} | | | 1 |"
    counts = ", ".join(
        f"{name} {o.imported + o.merged}/{o.read}"
        for name, o in report.collections.items()
        if o.read
    )
    understood = "; ".join(name for name, _ in report.not_understood) or "-"
    return (
        f"| {store.name} | {counts or 'nothing'} | {report.rejected()} | {understood} |"
        f" {report.exit_code()} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stores", type=Path, help="a folder of stores, one per subfolder")
    parser.add_argument("--map-dir", type=Path, default=None)
    args = parser.parse_args()
    if not args.stores.is_dir():
        sys.exit(f"{args.stores}: no such folder")
    url = os.environ["DATABASE_URL"]
    migrate.upgrade(url)
    print(
        "| store | imported or merged / read, per collection | rejected | not understood | exit |"
    )
    print("|---|---|---|---|---|")
    for store in sorted(p for p in args.stores.iterdir() if p.is_dir()):
        map_file = args.map_dir / f"{store.name}.toml" if args.map_dir else None
        print(
            asyncio.run(one(url, store, map_file if map_file and map_file.exists() else None)),
            flush=True,
        )


if __name__ == "__main__":
    main()
