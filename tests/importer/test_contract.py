"""One test per row of the import contract's table (legacy-json-store.md), each on a small
hand-written store, checking what the database holds and what the report says."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.importer.conftest import rejects, run_import, write_store

ANN = {"id": 1, "email": "ann@shop.test", "passwordHash": None, "role": "customer",
       "createdAt": "2021-01-01T10:00:00Z"}  # fmt: skip
MUG = {"id": 10, "name": "Mug", "price": 12.5, "stock": 5, "createdAt": "2021-01-01"}


def order(id: Any, *items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    lines = list(items) or [{"productId": 10, "quantity": 1, "unitPrice": 12.5}]
    total = sum(
        line["quantity"] * line.get("unitPrice", line.get("price", 0))
        for line in lines
        if isinstance(line.get("unitPrice", 0), int | float)
    )
    return {"id": id, "userId": 1, "status": "paid", "items": lines, "total": total,
            "paymentIntentId": None, "createdAt": "2022-03-04T05:06:07Z", **fields}  # fmt: skip


async def test_emails_differing_by_case_or_spaces_are_one_account_with_every_reference(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(
        tmp_path / "store",
        users=[
            {**ANN, "id": 2, "email": "  ANN@Shop.test ", "createdAt": "2023-01-01T00:00:00Z"},
            ANN,
        ],
        products=[MUG],
        carts=[{"userId": 2, "items": [{"productId": 10, "quantity": 2}]}],
        orders=[order(7, userId=2)],
        analytics=[
            {"type": "page_view", "userId": 2, "payload": {}, "createdAt": "2022-01-01T00:00:00Z"}
        ],
    )
    report = await run_import(import_url, store)

    users = await idb.fetch("SELECT id, email, legacy_id FROM users")
    assert [(u["email"], u["legacy_id"]) for u in users] == [("ann@shop.test", "1")]
    ann = users[0]["id"]
    assert await idb.fetchval("SELECT user_id FROM carts") == ann
    assert await idb.fetchval("SELECT user_id FROM orders") == ann
    assert await idb.fetchval("SELECT user_id FROM analytics_events") == ann
    outcome = report.collections["users"]
    assert (outcome.read, outcome.imported, outcome.merged, outcome.rejected) == (2, 1, 1, 0)


async def test_role_user_or_unknown_is_customer_and_unknown_roles_are_reported(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(tmp_path / "store", users=[
        {**ANN, "id": 1, "email": "a@x.test", "role": "admin"},
        {**ANN, "id": 2, "email": "b@x.test", "role": "user"},
        {**ANN, "id": 3, "email": "c@x.test", "role": "superuser"},
    ])  # fmt: skip
    report = await run_import(import_url, store)

    roles = {r[0]: r[1] for r in await idb.fetch("SELECT legacy_id, role::text FROM users")}
    assert roles == {"1": "admin", "2": "customer", "3": "customer"}
    notes = report.collections["users"].notes
    assert notes["unknown role 'superuser' imported as customer"] == 1


async def test_a_price_given_as_text_or_with_too_many_decimals_is_rounded_half_up(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(tmp_path / "store", products=[
        {**MUG, "id": 1, "price": "12,50"},
        {**MUG, "id": 2, "price": "7.125"},
        {**MUG, "id": 3, "price": 0.005},
        {**MUG, "id": 4, "price": "1.234,56"},
        {**MUG, "id": 5, "price": 3},
    ])  # fmt: skip
    report = await run_import(import_url, store)

    prices = {r[0]: r[1] for r in await idb.fetch("SELECT legacy_id, price FROM products")}
    assert prices == {"1": Decimal("12.50"), "2": Decimal("7.13"), "3": Decimal("0.01"),
                      "4": Decimal("1234.56"), "5": Decimal("3.00")}  # fmt: skip
    assert report.collections["products"].notes["price rounded to cents"] == 2


@pytest.mark.parametrize("price", [-1, "-0.50", "free", None, True, "NaN", {"amount": 3}])
async def test_a_product_whose_price_is_negative_or_not_a_number_is_rejected(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path, price: Any
) -> None:
    store = write_store(tmp_path / "store", products=[MUG, {**MUG, "id": 11, "price": price}])
    report = await run_import(import_url, store)

    assert await idb.fetchval("SELECT array_agg(legacy_id) FROM products") == ["10"]
    [reject] = rejects(report)
    assert reject["record"] == {**MUG, "id": 11, "price": price}
    assert reject["reason"].startswith(("negative price", "price is not a number", "no price"))


async def test_missing_stock_is_zero_and_negative_stock_is_zero_and_reported(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    no_stock = {key: value for key, value in MUG.items() if key != "stock"}
    store = write_store(tmp_path / "store", products=[
        {**no_stock, "id": 1}, {**MUG, "id": 2, "stock": -4}, {**MUG, "id": 3, "stock": 9},
    ])  # fmt: skip
    report = await run_import(import_url, store)

    stock = {r[0]: r[1] for r in await idb.fetch("SELECT legacy_id, stock FROM products")}
    assert stock == {"1": 0, "2": 0, "3": 9}
    notes = report.collections["products"].notes
    assert notes["negative stock: 0"] == 1 and notes["stock missing: 0"] == 1


async def test_a_duplicate_id_keeps_the_first_record_and_rejects_the_later_ones(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(
        tmp_path / "store",
        users=[ANN, {**ANN, "email": "other@shop.test"}],
        products=[MUG, {**MUG, "name": "Second mug"}, {**MUG, "id": "10", "name": "Third"}],
        orders=[order(1), order(1.0, status="shipped")],
        analytics=[
            {"id": 5, "type": "first", "createdAt": "2022-01-01T00:00:00Z"},
            {"id": 5, "type": "second", "createdAt": "2022-02-01T00:00:00Z"},
        ],
    )
    report = await run_import(import_url, store)

    assert await idb.fetchval("SELECT array_agg(email::text) FROM users") == ["ann@shop.test"]
    assert await idb.fetchval("SELECT array_agg(name) FROM products") == ["Mug"]
    assert await idb.fetchval("SELECT array_agg(status::text) FROM orders") == ["paid"]
    assert await idb.fetchval("SELECT array_agg(event_type) FROM analytics_events") == ["first"]
    assert {(r["collection"], r["reason"]) for r in rejects(report)} == {
        ("users", "duplicate id"), ("products", "duplicate id"), ("orders", "duplicate id"),
        ("analytics", "duplicate id"),
    }  # fmt: skip
    assert report.collections["products"].rejected == 2


async def test_cart_lines_for_unknown_products_or_bad_quantities_are_dropped_and_carts_of_unknown_users_rejected(  # noqa: E501
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(
        tmp_path / "store",
        users=[ANN],
        products=[MUG],
        carts=[
            {"userId": 1, "items": [
                {"productId": 10, "quantity": 2}, {"productId": 99, "quantity": 1},
                {"productId": 10, "quantity": 0}, {"productId": 10, "qty": 1.5},
                {"productId": 10, "quantity": "3"},
            ]},
            {"userId": 404, "items": [{"productId": 10, "quantity": 1}]},
        ],
    )  # fmt: skip
    report = await run_import(import_url, store)

    assert [tuple(r) for r in await idb.fetch("SELECT quantity FROM cart_items")] == [(2,)]
    outcome = report.collections["carts"]
    assert (outcome.imported, outcome.rejected) == (1, 1)
    assert outcome.notes["cart line for an unknown product dropped"] == 1
    assert outcome.notes["cart line with a bad quantity dropped"] == 1  # records, not lines
    assert rejects(report)[0]["reason"] == "unknown user"


async def test_the_same_product_twice_in_a_cart_is_one_line_with_the_quantities_summed(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(tmp_path / "store", users=[ANN], products=[MUG], carts=[
        {"userId": 1, "items": [{"productId": 10, "quantity": 2}, {"productId": "10", "qty": 3}]},
    ])  # fmt: skip
    await run_import(import_url, store)

    assert [tuple(r) for r in await idb.fetch("SELECT quantity FROM cart_items")] == [(5,)]


async def test_an_order_of_an_unknown_user_is_rejected(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(tmp_path / "store", users=[ANN], products=[MUG],
                        orders=[order(1), order(2, userId=404)])  # fmt: skip
    report = await run_import(import_url, store)

    assert await idb.fetchval("SELECT array_agg(legacy_id) FROM orders") == ["1"]
    assert [r["reason"] for r in rejects(report)] == ["unknown user"]


async def test_a_product_that_orders_name_but_products_lack_comes_back_as_an_inactive_deleted_placeholder(  # noqa: E501
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(tmp_path / "store", users=[ANN], products=[MUG], orders=[
        order(1, {"productId": 10, "quantity": 1, "unitPrice": 12.5},
              {"productId": 77, "quantity": 2, "price": 4.2}),
    ])  # fmt: skip
    report = await run_import(import_url, store)

    placeholder = await idb.fetchrow("SELECT * FROM products WHERE legacy_id = '77'")
    assert placeholder is not None
    assert placeholder["active"] is False and placeholder["deleted_at"] is not None
    assert placeholder["stock"] == 0 and placeholder["price"] == Decimal("4.20")
    assert await idb.fetchval("SELECT count(*) FROM order_items") == 2
    assert report.placeholder_products == 1


async def test_the_same_product_twice_in_an_order_merges_at_one_price_and_rejects_at_two(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    line = {"productId": 10, "quantity": 1, "unitPrice": 12.5}
    store = write_store(tmp_path / "store", users=[ANN], products=[MUG], orders=[
        order(1, line, {**line, "quantity": 2}),
        order(2, line, {**line, "unitPrice": 13}),
    ])  # fmt: skip
    report = await run_import(import_url, store)

    assert [tuple(r) for r in await idb.fetch("SELECT quantity FROM order_items")] == [(3,)]
    assert await idb.fetchval("SELECT total_amount FROM orders") == Decimal("37.50")
    assert [r["reason"] for r in rejects(report)] == ["same product twice at different prices"]


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", None, True])
async def test_an_order_line_whose_quantity_is_not_a_positive_integer_rejects_the_order(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path, quantity: Any
) -> None:
    bad = {"productId": 10, "quantity": quantity, "unitPrice": 1}
    store = write_store(tmp_path / "store", users=[ANN], products=[MUG],
                        orders=[{**order(1), "items": [bad]}])  # fmt: skip
    report = await run_import(import_url, store)

    assert await idb.fetchval("SELECT count(*) FROM orders") == 0
    assert [r["reason"] for r in rejects(report)] == ["line 1: quantity is not a positive integer"]


async def test_order_statuses_are_mapped_case_insensitively_and_unknown_ones_rejected(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    statuses = ["PENDING", "Paid", "canceled", "cancelled", "complete", "Completed",
                "delivered", "shipped", "teleported", "on-hold"]  # fmt: skip
    store = write_store(tmp_path / "store", users=[ANN], products=[MUG],
                        orders=[order(n, status=s) for n, s in enumerate(statuses)])  # fmt: skip
    report = await run_import(import_url, store)

    mapped = {r[0]: r[1] for r in await idb.fetch("SELECT legacy_id, status::text FROM orders")}
    assert mapped == {"0": "pending", "1": "paid", "2": "cancelled", "3": "cancelled",
                      "4": "shipped", "5": "shipped", "6": "shipped", "7": "shipped",
                      "9": "pending"}  # fmt: skip
    [reason] = [r["reason"] for r in rejects(report)]
    assert reason.startswith('unknown status "teleported": add [statuses] "teleported" = ')


async def test_a_total_that_differs_from_the_lines_is_replaced_by_their_sum_and_reported(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    lines = [{"productId": 10, "quantity": 3, "unitPrice": "2,10"}]
    store = write_store(tmp_path / "store", users=[ANN], products=[MUG],
                        orders=[{**order(1, *lines), "total": 99}])  # fmt: skip
    report = await run_import(import_url, store)

    assert await idb.fetchval("SELECT total_amount FROM orders") == Decimal("6.30")
    assert report.collections["orders"].notes["total differs from its lines: lines win"] == 1
    assert report.order_totals == {"stated": "99.00", "lines": "6.30", "stored": "6.30"}


async def test_a_payment_intent_used_by_two_orders_rejects_the_later_order(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(tmp_path / "store", users=[ANN], products=[MUG], orders=[
        order(1, paymentIntentId="pi_1", createdAt="2022-05-01T00:00:00Z"),
        order(2, paymentIntentId="pi_1", createdAt="2022-04-01T00:00:00Z"),
    ])  # fmt: skip
    report = await run_import(import_url, store)

    assert [
        tuple(r) for r in await idb.fetch("SELECT legacy_id, payment_intent_id FROM orders")
    ] == [("2", "pi_1")]
    [reject] = rejects(report)
    assert reject["record"]["id"] == 1
    assert reject["reason"] == "payment intent already used by another order"


async def test_an_event_of_an_unknown_user_is_kept_without_user_and_counted(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(tmp_path / "store", users=[ANN], analytics=[
        {"type": "view", "userId": 1, "payload": {}, "createdAt": "2022-01-01T00:00:00Z"},
        {"type": "view", "userId": 404, "payload": {}, "createdAt": "2022-01-01T00:00:00Z"},
    ])  # fmt: skip
    report = await run_import(import_url, store)

    assert await idb.fetchval("SELECT count(*) FROM analytics_events WHERE user_id IS NULL") == 1
    assert report.collections["analytics"].imported == 2
    assert report.collections["analytics"].notes == {
        "event of an unknown user kept without user": 1
    }


@pytest.mark.parametrize(
    ("payload", "stored"),
    [("clicked", {"value": "clicked"}), ([1, 2], {"value": [1, 2]}), (3, {"value": 3}),
     (None, {}), ({"sku": "A1"}, {"sku": "A1"})],
)  # fmt: skip
async def test_a_payload_that_is_not_an_object_is_wrapped_as_value(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path, payload: Any, stored: Any
) -> None:
    # The oldest events call it data, their type event, and their date timestamp.
    store = write_store(tmp_path / "store", analytics=[
        {"event": "click", "data": payload, "timestamp": 1_650_000_000_000},
    ])  # fmt: skip
    await run_import(import_url, store)

    row = await idb.fetchrow("SELECT event_type, payload, created_at FROM analytics_events")
    assert row is not None
    assert (row["event_type"], json.loads(row["payload"])) == ("click", stored)
    assert row["created_at"].isoformat() == "2022-04-15T05:20:00+00:00"


@pytest.mark.parametrize("date", ["yesterday", "2022-13-45", True, [2022]])
async def test_an_event_or_order_without_a_usable_date_is_rejected(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path, date: Any
) -> None:
    store = write_store(
        tmp_path / "store",
        users=[ANN],
        products=[MUG],
        orders=[order(1, createdAt=date)],
        analytics=[{"type": "view", "createdAt": date}],
    )
    report = await run_import(import_url, store)

    assert await idb.fetchval("SELECT count(*) FROM orders") == 0
    assert await idb.fetchval("SELECT count(*) FROM analytics_events") == 0
    assert {r["collection"] for r in rejects(report)} == {"orders", "analytics"}


@pytest.mark.parametrize("date", [None, ""])
async def test_an_order_without_a_date_is_kept_at_the_import_time_and_an_event_rejected(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path, date: Any
) -> None:
    """Stores that never dated their purchases (an object of purchases per username) still
    have orders; an event without a time has nothing left to say."""
    store = write_store(tmp_path / "store", users=[ANN], products=[MUG],
                        orders=[order(1, createdAt=date)],
                        analytics=[{"type": "view", "createdAt": date}])  # fmt: skip
    report = await run_import(import_url, store)

    assert (
        await idb.fetchval(
            "SELECT count(*) FROM orders WHERE created_at > now() - '1 hour'::interval"
        )
        == 1
    )
    assert report.collections["orders"].notes["no date: the import's time used"] == 1
    assert {r["collection"] for r in rejects(report)} == {"analytics"}


@pytest.mark.parametrize(
    ("date", "stored"),
    [("2022-03-04T05:06:07Z", "2022-03-04T05:06:07+00:00"),
     ("2022-03-04T05:06:07+02:00", "2022-03-04T03:06:07+00:00"),
     ("2022-03-04T05:06:07", "2022-03-04T05:06:07+00:00"),
     ("2022-03-04 05:06:07", "2022-03-04T05:06:07+00:00"),
     (1646370367000, "2022-03-04T05:06:07+00:00"),
     (1646370367, "2022-03-04T05:06:07+00:00"),
     ("1646370367000", "2022-03-04T05:06:07+00:00")],
)  # fmt: skip
async def test_dates_in_every_shape_the_app_wrote_are_read_as_utc(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path, date: Any, stored: str
) -> None:
    store = write_store(tmp_path / "store", users=[ANN], products=[MUG],
                        orders=[order(1, createdAt=date)])  # fmt: skip
    await run_import(import_url, store)

    created_at = await idb.fetchval("SELECT created_at FROM orders")
    assert created_at.astimezone().isoformat() == stored or created_at.isoformat() == stored


async def test_a_lead_without_an_email_is_rejected(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    lead = {"name": "Bo", "email": "bo@x.test", "message": "Hi", "createdAt": "2022-01-01"}
    store = write_store(tmp_path / "store", leads=[lead, {**lead, "email": " "},
                                                   {**lead, "email": None}])  # fmt: skip
    report = await run_import(import_url, store)

    assert await idb.fetchval("SELECT array_agg(email::text) FROM leads") == ["bo@x.test"]
    assert [r["reason"][:8] for r in rejects(report)] == ["no email", "no email"]


async def test_nul_characters_are_removed_and_reported(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(
        tmp_path / "store",
        users=[{**ANN, "name": "A\u0000nn"}],
        products=[{**MUG, "description": "Big\u0000 mug"}],
        leads=[{"name": "Bo", "email": "bo@x.test", "message": "H\u0000i"}],
        analytics=[
            {
                "type": "search",
                "payload": {"q\u0000": ["x\u0000y"]},
                "createdAt": "2022-01-01T00:00:00Z",
            }
        ],
    )
    report = await run_import(import_url, store)

    assert await idb.fetchval("SELECT name FROM users") == "Ann"
    assert await idb.fetchval("SELECT description FROM products") == "Big mug"
    assert await idb.fetchval("SELECT message FROM leads") == "Hi"
    assert json.loads(await idb.fetchval("SELECT payload FROM analytics_events")) == {"q": ["xy"]}
    for name in ("users", "products", "leads", "analytics"):
        assert report.collections[name].notes["NUL characters removed"] == 1


async def test_a_user_product_or_lead_with_an_unusable_date_is_imported_dated_now(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(
        tmp_path / "store",
        users=[{**ANN, "createdAt": "someday"}],
        products=[{**MUG, "createdAt": "2021-02-30"}],
        leads=[{"email": "bo@x.test", "createdAt": "soon"}],
    )
    report = await run_import(import_url, store)

    for table in ("users", "products", "leads"):
        age = await idb.fetchval(f"SELECT now() - created_at FROM {table}")
        assert age.total_seconds() < 60
    for name in ("users", "products", "leads"):
        assert report.collections[name].notes["unusable date: the import's time used"] == 1
