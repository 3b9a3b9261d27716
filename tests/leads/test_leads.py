"""Leads: public capture (validated, rate limited), the admin listing with its filters, and
the CSV export (streamed, formula cells neutralised)."""

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from comptoir.app import create_app
from comptoir.db.door import customer
from comptoir.deps import get_doors
from comptoir.leads import export
from comptoir.leads.queries import LeadFilter
from tests.conftest import client_of, limited_settings
from tests.factories import Account

GOOD = {"name": "Ada Lovelace", "email": "ada@example.com", "message": "Call me back, please."}


async def test_a_lead_is_captured(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    response = await client.post("/v1/leads", json={**GOOD, "name": "  Ada Lovelace "})
    assert response.status_code == 201, response.text
    lead = response.json()
    assert (lead["name"], lead["email"], lead["message"]) == (
        "Ada Lovelace",
        "ada@example.com",
        "Call me back, please.",
    )
    row = await db.fetchrow("SELECT name, email::text, message FROM leads")
    assert row is not None
    assert tuple(row) == ("Ada Lovelace", "ada@example.com", "Call me back, please.")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not an email"}, "email"),
        ({"email": "a@" + "b" * 320 + ".com"}, "email"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"message": ""}, "message"),
        ({"message": "x" * 5001}, "message"),
        ({"name": None}, "name"),
        ({"phone": "0612345678"}, "phone"),
    ],
)
async def test_bad_leads_are_422_and_nothing_is_stored(
    client: httpx.AsyncClient, db: asyncpg.Connection, change: dict[str, object], field: str
) -> None:
    response = await client.post("/v1/leads", json={**GOOD, **change})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {err["loc"][-1] for err in response.json()["errors"]}
    assert await db.fetchval("SELECT count(*) FROM leads") == 0


async def test_leads_are_rate_limited_per_address(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> None:
    app = create_app(limited_settings(database_url, tmp_path, leads_rate_limit="2/minute"))
    try:
        async with app.router.lifespan_context(app):
            async with client_of(app, ("203.0.113.9", 5000)) as client:
                statuses = [(await client.post("/v1/leads", json=GOOD)).status_code for _ in "abc"]
                refused = await client.post("/v1/leads", json=GOOD)
            async with client_of(app, ("198.51.100.10", 5000)) as client:
                elsewhere = await client.post("/v1/leads", json=GOOD)
    finally:
        stored = await committed.fetchval("SELECT count(*) FROM leads")
        await committed.execute("TRUNCATE leads")
    assert statuses == [201, 201, 429]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert elsewhere.status_code == 201
    assert stored == 3


async def add_leads(db: asyncpg.Connection, rows: list[tuple[str, str, str, datetime]]) -> None:
    await db.executemany(
        "INSERT INTO leads (name, email, message, created_at) VALUES ($1, $2, $3, $4)", rows
    )


async def test_admin_listing_newest_first_with_filters_and_pages(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    now = datetime.now(UTC)
    await add_leads(
        db,
        [
            (f"Lead {i}", f"lead{i % 3}@example.com", "Bonjour", now - timedelta(hours=i))
            for i in range(9)
        ],
    )

    async def names(**params: str) -> list[str]:
        response = await client.get("/v1/admin/leads", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [lead["name"] for lead in response.json()["items"]]

    assert await names() == [f"Lead {i}" for i in range(9)]
    assert await names(email="LEAD1@example.com") == ["Lead 1", "Lead 4", "Lead 7"]
    window = {
        "from": (now - timedelta(hours=5)).isoformat(),
        "to": (now - timedelta(hours=2)).isoformat(),
    }
    assert await names(**window) == ["Lead 3", "Lead 4", "Lead 5"]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/admin/leads", params=params, headers=admin.headers)).json()
        seen += [lead["name"] for lead in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [f"Lead {i}" for i in range(9)]


async def test_csv_export_neutralises_formula_cells(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    now = datetime.now(UTC)
    hostile = [
        ('=HYPERLINK("http://evil")', "eve@example.com", "+33 6 12 34 56 78"),
        ("-2+3", "mallory@example.com", "@SUM(A1:A9)"),
        ("\tTabbed", "trent@example.com", 'Line one\nline two, "quoted"'),
        ("Plain Name", "plain@example.com", "no formula = here"),
    ]
    await add_leads(
        db, [(n, e, m, now - timedelta(minutes=i)) for i, (n, e, m) in enumerate(hostile)]
    )

    response = await client.get("/v1/admin/leads", headers={**admin.headers, "Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "content-length" not in response.headers  # streamed, not built whole
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["name"], r["email"], r["message"]) for r in rows] == [
        ('\'=HYPERLINK("http://evil")', "eve@example.com", "'+33 6 12 34 56 78"),
        ("'-2+3", "mallory@example.com", "'@SUM(A1:A9)"),
        ("'\tTabbed", "trent@example.com", 'Line one\nline two, "quoted"'),
        ("Plain Name", "plain@example.com", "no formula = here"),
    ]

    filtered = await client.get(
        "/v1/admin/leads",
        params={"email": "plain@example.com"},
        headers={**admin.headers, "Accept": "text/csv"},
    )
    assert [r["name"] for r in csv.DictReader(io.StringIO(filtered.text))] == ["Plain Name"]


async def test_csv_export_streams_in_bounded_chunks(
    app: object, client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    await db.execute(
        "INSERT INTO leads (name, email, message, created_at)"
        " SELECT 'Lead ' || i, 'l' || i || '@example.com', repeat('x', 100),"
        "        now() - make_interval(secs => i)"
        " FROM generate_series(1, 2500) AS i"
    )
    doors = await app.dependency_overrides[get_doors]()  # type: ignore[attr-defined]
    chunks = [
        chunk
        async for chunk in export.leads_csv(
            doors.to(customer(admin.id, "admin")), filters=LeadFilter(), chunk_rows=200
        )
    ]
    # 2,500 rows leave in 13 pieces of at most 200 rows: never the whole export at once.
    assert len(chunks) == 13
    assert max(chunk.count("\r\n") for chunk in chunks) <= 201
    lines = "".join(chunks).splitlines()
    assert len(lines) == 2501
    assert lines[1].split(",")[2] == "Lead 1"


async def test_csv_and_listing_are_for_admins(client: httpx.AsyncClient, customer: Account) -> None:
    for headers in ({}, customer.headers):
        response = await client.get("/v1/admin/leads", headers={**headers, "Accept": "text/csv"})
        assert response.status_code in (401, 403)
        assert response.headers["content-type"] == "application/problem+json"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("separator", [",", ";"])
async def test_csv_export_is_inert_read_with_either_separator(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account, separator: str
) -> None:
    """Excel in French or German locales splits on `;`: no cell may start a formula there
    either, nor after a line break inside a cell, nor behind a quote."""
    now = datetime.now(UTC)
    hostile = [
        ('x;=HYPERLINK("http://evil")', "eve@example.com", 'a;"=1+1";b'),
        ("y,+SUM(A1)", "mallory@example.com", "Line one\n=cmd|' /C calc'!A0"),
        ("z; -2+3", "trent@example.com", "tab;\t=1 and cr;\r@x"),
        ('q;""@x', "peggy@example.com", "plain; text, here"),
    ]
    await add_leads(
        db, [(n, e, m, now - timedelta(minutes=i)) for i, (n, e, m) in enumerate(hostile)]
    )
    response = await client.get("/v1/admin/leads", headers={**admin.headers, "Accept": "text/csv"})
    assert response.status_code == 200, response.text
    cells = [
        cell
        for row in csv.reader(io.StringIO(response.text, newline=""), delimiter=separator)
        for cell in row
    ]
    formulas = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert formulas == []
    # Read as the export's own `,` CSV, the text is all there, only marked.
    if separator == ",":
        rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
        assert rows[0]["name"] == 'x;\'=HYPERLINK("http://evil")'
        assert rows[3]["message"] == "plain; text, here"
