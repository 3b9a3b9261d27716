"""`comptoir inspect` on each shape: a profile, and a draft mapping that, once its blanks
are filled (one edit), imports the store completely."""

import os
import re
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from comptoir.importer import inspect
from comptoir.importer import mapping as import_mapping
from comptoir.importer.mapping import Mapping
from tests.importer import shapes
from tests.importer.conftest import rejects, run_import

ALIAS_SHAPES = [shapes.express_directory, shapes.lowdb, shapes.wrapped, shapes.mongoexport,
                shapes.keyed]  # fmt: skip


@pytest.mark.parametrize("shape", ALIAS_SHAPES, ids=lambda s: s.__name__)
async def test_the_draft_of_a_store_aliases_read_has_no_blank_and_imports_it_whole(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path, shape: object
) -> None:
    store = shape(tmp_path / "store")  # type: ignore[operator]
    draft = inspect.draft_mapping(inspect.profile(store, Mapping()))
    assert '= ""' not in draft
    (tmp_path / "map.toml").write_text(draft)

    report = await run_import(import_url, store, mapping=import_mapping.load(tmp_path / "map.toml"))
    assert report.exit_code() == 0 and report.complete(), rejects(report)


def owners_edit(draft: str) -> str:
    """What the owner of the `needs_mapping` shop writes into the draft, in one edit: the
    blanks filled, and the field names under the sections the draft prepared."""
    for blank, answer in shapes.NEEDS_MAPPING_ANSWERS.items():
        assert blank in draft
        draft = draft.replace(blank, answer)
    draft = draft.replace('email = ""', 'email = "courriel"')
    draft = re.sub(r'price_unit = "units".*', 'price_unit = "cents"', draft)
    additions = {
        "fields.products": 'id = "ref"\nname = "libelle"\nprice = "prix"\nstock = "qte"',
        "fields.users": 'id = "num"\nname = "nom"',
        "fields.orders": 'id = "num"\nuser = "client"\nstatus = "etat"\nlines = "articles"',
        "fields.lines": 'product = "ref"\nquantity = "quantite"',
        "statuses": 'expediee = "shipped"',
    }
    for section, lines in additions.items():
        draft = re.sub(rf"^(\[{re.escape(section)}\].*)$", rf"\1\n{lines}", draft, flags=re.M)
    return draft


async def test_a_store_no_alias_reads_goes_from_inspect_to_a_complete_import_in_one_edit(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = shapes.needs_mapping(tmp_path / "store")
    profile = inspect.profile(store, Mapping())
    draft = inspect.draft_mapping(profile)
    assert inspect.blanks(profile) == 4  # three files, and the clients' email field
    assert "#   its fields: ref, libelle, prix, qte" in draft
    with pytest.raises(import_mapping.MappingError, match="fill in the blanks first"):
        (tmp_path / "draft.toml").write_text(draft)
        import_mapping.load(tmp_path / "draft.toml")

    (tmp_path / "map.toml").write_text(owners_edit(draft))
    report = await run_import(import_url, store, mapping=import_mapping.load(tmp_path / "map.toml"))

    assert report.exit_code() == 0 and report.complete(), rejects(report)
    assert await idb.fetchval("SELECT total_amount::text FROM orders") == "9.00"


def test_inspect_prints_a_profile_and_writes_the_draft_without_a_database(tmp_path: Path) -> None:
    store = shapes.lowdb(tmp_path / "store")
    result = subprocess.run(  # the CLI is what is under test
        [str(Path(sys.executable).parent / "comptoir"), "inspect", str(store),
         "--draft", str(tmp_path / "draft.toml")],
        env={**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
             "COLUMNS": "200"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "db.json:users — lowdb collection key, 1 records →" in result.stdout
    assert "priceInCents" in result.stdout and "price_cents" in result.stdout
    assert "draft mapping written to" in result.stdout
    assert '"db.json:orders" = "orders"' in (tmp_path / "draft.toml").read_text()


def test_a_bad_mapping_file_stops_the_import_with_the_entry_named(tmp_path: Path) -> None:
    store = shapes.lowdb(tmp_path / "store")
    (tmp_path / "map.toml").write_text('[collections]\n"db.json:items" = "widgets"\n')
    result = subprocess.run(  # the CLI is what is under test
        [str(Path(sys.executable).parent / "comptoir"), "import-json", str(store),
         "--map", str(tmp_path / "map.toml")],
        env={**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
             "COLUMNS": "300"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 1
    assert '[collections] "db.json:items" = "widgets": one of users,' in result.stderr
    assert "nothing was imported" in result.stderr
