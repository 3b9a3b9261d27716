"""Fuzzy search: typos, case and accents tolerated; best match first."""

import asyncpg
import httpx
import pytest

from comptoir.demo.names import product_names

NAMES = [
    "Chaussure de randonnée en cuir",
    "Chaussette en laine",
    "Veste Élégante en lin bleu",
    "Théière japonaise en fonte",
    "Lampe scandinave en chêne",
    "Sac à dos de voyage",
]


@pytest.fixture
async def catalog(db: asyncpg.Connection, client: httpx.AsyncClient) -> None:
    await db.executemany(
        "INSERT INTO products (name, price) VALUES ($1, 10)", [(n,) for n in NAMES]
    )
    # Many names share words, as in a real catalog. One COPY: a third of the time of 3,000
    # INSERTs, for each test of the file.
    await db.copy_records_to_table(
        "products",
        records=[(n, 10) for n in product_names(3000, seed=3)],
        columns=["name", "price"],
    )


async def names_for(client: httpx.AsyncClient, q: str, **params: str | int) -> list[str]:
    response = await client.get("/v1/products/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_a_typo_finds_the_word(client: httpx.AsyncClient, catalog: None) -> None:
    assert "Chaussure de randonnée en cuir" in await names_for(client, "chausure")


async def test_missing_accents_find_accented_names(
    client: httpx.AsyncClient, catalog: None
) -> None:
    assert (await names_for(client, "elegant veste"))[0] == "Veste Élégante en lin bleu"
    assert "Théière japonaise en fonte" in await names_for(client, "theiere")
    assert (await names_for(client, "THÉIÈRE Japonaise"))[0] == "Théière japonaise en fonte"


async def test_best_match_first(client: httpx.AsyncClient, catalog: None) -> None:
    found = await names_for(client, "chausure randonee cuir")
    assert found[0] == "Chaussure de randonnée en cuir"
    assert (await names_for(client, "lampe scandinave chene"))[0] == "Lampe scandinave en chêne"


async def test_a_word_start_finds_the_word(client: httpx.AsyncClient, catalog: None) -> None:
    assert "Théière japonaise en fonte" in await names_for(client, "japon", limit=100)


async def test_nothing_close_finds_nothing(client: httpx.AsyncClient, catalog: None) -> None:
    assert await names_for(client, "xqzwvk") == []
    assert await names_for(client, "!!! ???") == []


async def test_hidden_products_are_not_found(
    client: httpx.AsyncClient, catalog: None, db: asyncpg.Connection
) -> None:
    await db.execute("UPDATE products SET active = false WHERE name LIKE 'Théière%'")
    await db.execute("UPDATE products SET deleted_at = now() WHERE name LIKE 'Sac à dos%'")
    assert "Théière japonaise en fonte" not in await names_for(client, "theiere japonaise")
    assert "Sac à dos de voyage" not in await names_for(client, "sac dos voyage")


async def test_results_page_without_repeats(client: httpx.AsyncClient, catalog: None) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        params: dict[str, str | int] = {"q": "en", "limit": 25}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/products/search", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert cursor is None
    assert len(seen) == len(set(seen)) > 25


async def test_bad_queries_are_422(client: httpx.AsyncClient) -> None:
    for params in (
        {},
        {"q": ""},
        {"q": "x" * 201},
        {"q": "a", "cursor": "-3"},
        {"q": "a", "cursor": "abc"},
    ):
        response = await client.get("/v1/products/search", params=params)
        assert response.status_code == 422, params


async def test_an_exact_word_brings_no_fuzzy_neighbours(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    for name in ("Tasse en grès", "Tasses expresso", "Panier tressé", "Tasseau en pin"):
        await db.execute("INSERT INTO products (name, price) VALUES ($1, 10)", name)
    exact = await names_for(client, "tasse")
    assert set(exact[:2]) == {"Tasse en grès", "Tasses expresso"}  # a plural is the word
    assert "Panier tressé" not in exact
    assert set((await names_for(client, "tase"))[:2]) == {"Tasse en grès", "Tasses expresso"}


async def test_brand_and_category_words_count_below_name_words(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await db.execute(
        "INSERT INTO products (name, price, attributes) VALUES"
        " ('Bol bleu', 10, '{\"brand\": \"Gien\"}'),"
        " ('Assiette Gien', 10, '{}'),"
        ' (\'Plat\', 10, \'{"categories": ["Céramique", "Cuisine"]}\')'
    )
    assert await names_for(client, "gien") == ["Assiette Gien", "Bol bleu"]
    assert await names_for(client, "ceramique") == ["Plat"]
