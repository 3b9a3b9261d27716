"""Chaos run: minutes of checkout, payment and refund load while the server is SIGKILLed
and restarted and PostgreSQL is stopped in immediate mode and restarted; then every order
that got a 201 must exist, the stock invariants must hold, no order may lack its lines, no
order may be paid without money taken, and no money may be kept for an order that is gone.

    python bench/chaos.py [--duration 180] [--every 15] [--customers 16] [--workers 1]

1. A throwaway PostgreSQL (the embedded binaries, in a temporary directory: the bench stops
   and starts it, so it never uses DATABASE_URL's server), migrated, with a catalog of
   products of known stock and customers with minted tokens.
2. `comptoir serve` on it, with Stripe pointed at the tests' stand-in (tests/payments/
   standin.py, served by this process), and `--customers` virtual customers in a loop: empty
   the cart, put one to three products in it, check out with an Idempotency-Key; then most
   pay (the stand-in's intent succeeds) and Stripe's signed `payment_intent.succeeded` is
   delivered to the webhook (sometimes twice; sometimes never: a lost webhook), and an admin
   cancels some paid orders, which refunds them. Like a careful client (and like Stripe), a
   sender who gets no answer (connection reset) or a 503 sends the same request again,
   with the same key, until it gets a real answer.
3. Every `--every` seconds a fault, in turn: the server's whole process group gets SIGKILL
   and a new server is started; or PostgreSQL gets `pg_ctl stop -m immediate`, stays down
   two seconds, and is started again (the server is not restarted).
4. `comptoir payments reconcile` repairs what lost webhooks and lost refund calls left.
5. The report: orders acknowledged (201), orders found, invariant violations (must be 0:
   stock, totals, lines, and payments: no order paid without a succeeded intent, no
   succeeded intent of a cancelled order unrefunded, no refund twice or of a live order,
   no payment left unapplied), answers by status, payments, webhooks and refunds, and for
   each fault the seconds until the shop served a checkout again.

Load generator, server and PostgreSQL share the machine's cores (nothing is pinned): the
point is correctness under faults, not throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from comptoir.auth.security import issue_token
from comptoir.db import embedded, migrate
from harness import free_port, say

# The Stripe stand-in lives with the tests (one stand-in for both).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.payments.standin import Stripe, loopback_socket, serving, sign

WEBHOOK_SECRET = "whsec_chaos_0123456789abcdef"  # noqa: S105 - the stand-in's, not a secret
PAY = 0.7  # of the orders placed, paid
LOST = 0.05  # of the payments, the webhook never delivered
TWICE = 0.1  # of the deliveries, delivered twice
REFUND = 0.2  # of the orders paid, cancelled by an admin (refunded)

INITIAL_STOCK = 3_000  # lasts the run: checkouts keep placing orders to the end
PG_DOWN_SECONDS = 2.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=180, help="seconds of load")
    parser.add_argument("--every", type=float, default=15, help="seconds between faults")
    parser.add_argument("--customers", type=int, default=16, help="concurrent customers")
    parser.add_argument("--products", type=int, default=40)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=3)
    return parser.parse_args()


# ---------------------------------------------------------------- PostgreSQL we may stop


class Cluster:
    def __init__(self, directory: Path) -> None:
        if os.geteuid() == 0:  # the server runs as the package's system user
            directory.chmod(0o777)
        self.ep = embedded.server_module()
        self.server: Any = self.ep.get_server(directory / "pg", cleanup_mode=None)
        self.socket_dir = self.server.get_postmaster_info().socket_dir

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def ctl(self, *args: str) -> None:
        pgdata = self.server.pgdata
        self.ep.pg_ctl(list(args), pgdata=pgdata, user=self.server.system_user, timeout=120)

    def stop(self, mode: str) -> None:
        self.ctl("-w", "-m", mode, "stop")

    def start(self) -> None:
        log = str(self.server.pgdata / "restarts.log")
        self.ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", log, "start")


async def load_shop(url: str, products: int, customers: int) -> tuple[list[str], list[str], str]:
    conn = await asyncpg.connect(url)
    try:
        product_ids = [
            str(row[0])
            for row in await conn.fetch(
                "INSERT INTO products (name, price, stock)"
                " SELECT 'Article ' || i, 5 + i % 40, $1 FROM generate_series(1, $2) AS i"
                " RETURNING id",
                INITIAL_STOCK,
                products,
            )
        ]
        user_ids = [
            str(row[0])
            for row in await conn.fetch(
                "INSERT INTO users (email) SELECT 'chaos' || i || '@example.com'"
                " FROM generate_series(1, $1) AS i RETURNING id",
                customers,
            )
        ]
        admin: str = str(
            await conn.fetchval(
                "INSERT INTO users (email, role) VALUES ('chaos-admin@example.com', 'admin')"
                " RETURNING id"
            )
        )
        return product_ids, user_ids, admin
    finally:
        await conn.close()


# ---------------------------------------------------------------- the server we may kill


class Shop:
    def __init__(
        self, url: str, workers: int, secret: str, scratch: Path, stripe_base: str
    ) -> None:
        self.url, self.workers, self.scratch = url, workers, scratch
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "COMPTOIR_JWT_SECRET": secret,
            "COMPTOIR_RATE_LIMITS": "off",
            # Load, not the unpaid-order policy: customers check out again and again.
            "COMPTOIR_MAX_PENDING_ORDERS": "1000",
            "COMPTOIR_PENDING_ORDER_TTL_MINUTES": "0",
            "COMPTOIR_DATA_DIR": str(scratch / "data"),
            "COMPTOIR_LOG_FORMAT": "json",
            "COMPTOIR_STRIPE_SECRET_KEY": "sk_test_chaos",
            "COMPTOIR_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "COMPTOIR_STRIPE_API_BASE": stripe_base,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.scratch / f"server-{self.starts}.log").open("wb")
        command = [str(Path(sys.executable).parent / "comptoir"), "serve", "--no-migrate"]
        command += ["--port", str(self.port), "--workers", str(self.workers)]
        # A session of its own: SIGKILL goes to the whole group, workers included.
        self.process = subprocess.Popen(  # noqa: S603
            command, env=self.env, cwd=self.scratch, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.kill()


# ---------------------------------------------------------------- the load


@dataclass
class Tally:
    acknowledged: set[str] = field(default_factory=set)
    statuses: Counter[str] = field(default_factory=Counter)
    served_at: list[float] = field(default_factory=list)  # when checkouts got a real answer
    gave_up: int = 0
    paid_at_stripe: int = 0
    deliveries: int = 0
    lost_webhooks: int = 0
    admin_cancels: int = 0
    reconciled: list[str] = field(default_factory=list)


RETRYABLE = {502, 503, 504}


async def send(
    client: httpx.AsyncClient, tally: Tally, method: str, path: str, stop: float, **kw: Any
) -> httpx.Response | None:
    """The same request until it gets a real answer (or the run ends): what a careful client
    does with a lost connection or a 503."""
    while time.monotonic() < stop + 60:
        try:
            response = await client.request(method, path, **kw)
        except httpx.TransportError as exc:
            tally.statuses[type(exc).__name__] += 1
            await asyncio.sleep(0.2)
            continue
        tally.statuses[f"{method} {response.status_code}"] += 1
        if response.status_code not in RETRYABLE:
            return response
        await asyncio.sleep(0.2)
    tally.gave_up += 1
    return None


@dataclass
class Payer:
    """What a customer's payments reach: Stripe (the stand-in) and the back office."""

    stripe: Stripe
    admin: httpx.AsyncClient


async def deliver(client: httpx.AsyncClient, tally: Tally, event: bytes, stop: float) -> None:
    """A webhook delivery, as Stripe makes it: signed when sent, sent again until 2xx."""
    tally.deliveries += 1
    while time.monotonic() < stop + 60:
        headers = {"Stripe-Signature": sign(event, WEBHOOK_SECRET)}
        answer = await send(client, tally, "POST", "/v1/payments/stripe/webhook", stop,
                            content=event, headers=headers)  # fmt: skip
        if answer is not None:  # a 200, or a failure counted in the answers
            return


async def pay(
    client: httpx.AsyncClient, payer: Payer, order: dict[str, Any], rng: random.Random,
    tally: Tally, stop: float,
) -> None:  # fmt: skip
    """Stripe.js takes the card (or the customer walks away); Stripe tells the shop; an
    admin cancels some paid orders."""
    secret = order["payment"]["client_secret"]
    if secret is None:  # the intent was not made in the checkout: ask again
        again = await send(client, tally, "POST", f"/v1/orders/{order['id']}/payment", stop)
        if again is None or again.status_code != 200:
            return
        secret = again.json()["payment"]["client_secret"]
    if rng.random() >= PAY:
        return
    intent_id = secret.split("_secret_")[0]  # Stripe's client secrets start with the id
    payer.stripe.pay(intent_id)
    tally.paid_at_stripe += 1
    if rng.random() < LOST:
        tally.lost_webhooks += 1
        return
    event = payer.stripe.event("payment_intent.succeeded", payer.stripe.intents[intent_id])
    for _ in range(2 if rng.random() < TWICE else 1):
        await deliver(client, tally, event, stop)
    if rng.random() < REFUND:
        tally.admin_cancels += 1
        path = f"/v1/admin/orders/{order['id']}/status"
        await send(payer.admin, tally, "POST", path, stop, json={"status": "cancelled"})


async def customer(
    base: str, token: str, products: list[str], rng: random.Random, tally: Tally, stop: float,
    payer: Payer,
) -> None:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=20) as client:
        while time.monotonic() < stop:
            await send(client, tally, "DELETE", "/v1/cart", stop)
            for product in rng.sample(products, rng.randint(1, 3)):
                body = {"quantity": rng.randint(1, 2)}
                await send(client, tally, "PUT", f"/v1/cart/items/{product}", stop, json=body)
            key = {"Idempotency-Key": str(uuid.uuid4())}
            answer = await send(client, tally, "POST", "/v1/checkout", stop, headers=key)
            if answer is None:
                continue
            tally.served_at.append(time.monotonic())
            if answer.status_code == 201:
                tally.acknowledged.add(answer.json()["id"])
                await pay(client, payer, answer.json(), rng, tally, stop)


# ---------------------------------------------------------------- the faults


@dataclass
class Fault:
    kind: str
    injected: float
    cleared: float = 0.0
    recovered: float | None = None  # first checkout answered after `cleared`


async def wait_ready(shop: Shop, within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{shop.base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the server was not ready in {within:.0f} s (see {shop.scratch})")


async def chaos(shop: Shop, cluster: Cluster, every: float, stop: float) -> list[Fault]:
    faults: list[Fault] = []
    kinds = ["server SIGKILL", "PostgreSQL immediate stop"]
    while time.monotonic() + every < stop:
        await asyncio.sleep(every)
        fault = Fault(kinds[len(faults) % 2], time.monotonic())
        if fault.kind == "server SIGKILL":
            await asyncio.to_thread(shop.kill)
            await asyncio.to_thread(shop.start)
        else:
            await asyncio.to_thread(cluster.stop, "immediate")
            await asyncio.sleep(PG_DOWN_SECONDS)
            await asyncio.to_thread(cluster.start)
        fault.cleared = time.monotonic()
        say(f"{fault.kind}: cleared after {fault.cleared - fault.injected:.1f} s")
        faults.append(fault)
    return faults


def recoveries(faults: list[Fault], served_at: list[float]) -> None:
    answered = sorted(served_at)
    for fault in faults:
        later = [t for t in answered if t > fault.cleared]
        fault.recovered = later[0] - fault.cleared if later else None


# ---------------------------------------------------------------- the verdict

INVARIANTS = """
SELECT
  (SELECT count(*) FROM orders WHERE id = ANY($1::uuid[])) AS found,
  (SELECT count(*) FROM products WHERE stock < 0) AS negative_stock,
  (SELECT count(*) FROM products AS p
   LEFT JOIN (SELECT oi.product_id, sum(oi.quantity) AS units
              FROM order_items AS oi JOIN orders AS o ON o.id = oi.order_id
              WHERE o.status <> 'cancelled' GROUP BY oi.product_id) AS sold
     ON sold.product_id = p.id
   WHERE p.stock + coalesce(sold.units, 0) <> $2) AS stock_mismatch,
  (SELECT count(*) FROM orders AS o
   WHERE NOT EXISTS (SELECT 1 FROM order_items WHERE order_id = o.id)) AS orders_without_lines,
  (SELECT count(*) FROM orders AS o
   WHERE o.total_amount <> (SELECT coalesce(sum(unit_price * quantity), -1)
                            FROM order_items WHERE order_id = o.id)) AS bad_totals,
  (SELECT count(*) FROM orders) AS orders
"""


PAYMENTS = """
SELECT o.id::text AS id, o.status::text AS status, p.intent_id, p.refund_status
FROM orders AS o LEFT JOIN payments AS p ON p.order_id = o.id
"""


def payment_checks(stripe: Stripe, orders: list[asyncpg.Record]) -> dict[str, int]:
    """The shop's orders against the stand-in's books, after reconciliation."""
    status = {row["id"]: row["status"] for row in orders}
    taken = {i["id"]: i for i in stripe.intents.values() if i["status"] == "succeeded"}
    refunds: Counter[str] = Counter(r["payment_intent"] for r in stripe.refunds.values())
    of = {i["id"]: i["metadata"]["order_id"] for i in stripe.intents.values()}
    return {
        "paid_without_money": sum(
            1 for row in orders
            if row["status"] in ("paid", "shipped") and row["intent_id"] not in taken
        ),
        "money_kept_for_cancelled": sum(
            1 for i in taken if status.get(of[i]) in (None, "cancelled") and not refunds[i]
        ),
        "refunded_twice": sum(1 for n in refunds.values() if n > 1),
        "refund_of_live_order": sum(1 for i in refunds if status.get(of[i]) != "cancelled"),
        "payment_unapplied": sum(1 for i in taken if status.get(of[i]) == "pending"),
        "refund_owed": sum(1 for row in orders if row["refund_status"] == "pending"),
        "paid": sum(1 for row in orders if row["status"] == "paid"),
        "refunds": len(stripe.refunds),
    }  # fmt: skip


async def verdict(url: str, acknowledged: set[str], stripe: Stripe) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(INVARIANTS, list(acknowledged), INITIAL_STOCK)
        assert row is not None  # scalar subqueries without FROM: always one row
        return dict(row) | payment_checks(stripe, await conn.fetch(PAYMENTS))
    finally:
        await conn.close()


def report(args: argparse.Namespace, tally: Tally, faults: list[Fault], v: dict[str, int]) -> int:
    missing = len(tally.acknowledged) - v["found"]
    violations = (
        missing + v["negative_stock"] + v["stock_mismatch"]
        + v["orders_without_lines"] + v["bad_totals"]
        + v["paid_without_money"] + v["money_kept_for_cancelled"] + v["refunded_twice"]
        + v["refund_of_live_order"] + v["payment_unapplied"] + v["refund_owed"]
    )  # fmt: skip
    five_hundreds = sum(n for k, n in tally.statuses.items() if k.endswith(" 500"))
    print(f"\nchaos run: {args.duration} s, {args.customers} customers, {args.workers} worker(s)")
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"orders acknowledged (201): {len(tally.acknowledged)}")
    print(f"orders found:              {v['found']}  (orders in the database: {v['orders']})")
    print(f"invariant violations:      {violations}")
    print(f"  acknowledged but missing {missing}, negative stock {v['negative_stock']},")
    print(f"  stock + sold != initial {v['stock_mismatch']}, orders without lines "
          f"{v['orders_without_lines']}, totals != sum of lines {v['bad_totals']},")  # fmt: skip
    print(f"  paid without money {v['paid_without_money']}, money kept for a cancelled order "
          f"{v['money_kept_for_cancelled']}, refunded twice {v['refunded_twice']},\n"
          f"  refund of a live order {v['refund_of_live_order']}, payment unapplied "
          f"{v['payment_unapplied']}, refund still owed {v['refund_owed']}")  # fmt: skip
    print(f"payments: {tally.paid_at_stripe} paid at Stripe, {tally.deliveries} webhook "
          f"deliveries ({tally.lost_webhooks} webhooks lost), {v['paid']} orders paid; "
          f"{tally.admin_cancels} admin cancellations of paid orders, "
          f"{v['refunds']} refunds")  # fmt: skip
    kinds = Counter(line.split(": ", 1)[-1].split(" ", 1)[0] for line in tally.reconciled)
    print(f"reconcile repaired {len(tally.reconciled)}: "
          + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())))  # fmt: skip
    print(f"500 answers: {five_hundreds}; requests given up: {tally.gave_up}")
    print("answers: " + ", ".join(f"{k} {n}" for k, n in sorted(tally.statuses.items())))
    print("\nfault                       cleared after   first checkout answered after")
    for f in faults:
        back = f"{f.recovered:.2f} s" if f.recovered is not None else "never"
        print(f"{f.kind:<28}{f.cleared - f.injected:>8.2f} s   {back:>12}")
    for kind in ("server SIGKILL", "PostgreSQL immediate stop"):
        times = [f.recovered for f in faults if f.kind == kind and f.recovered is not None]
        if times:
            print(f"seconds to recover after {kind}: max {max(times):.2f}, "
                  f"mean {sum(times) / len(times):.2f}")  # fmt: skip
    return 1 if violations or five_hundreds else 0


async def reconcile(shop: Shop) -> list[str]:
    """`comptoir payments reconcile`, as cron would run it, while the stand-in serves."""
    command = str(Path(sys.executable).parent / "comptoir")
    process = await asyncio.create_subprocess_exec(
        command, "payments", "reconcile", "--since", "1d", env=shop.env, cwd=shop.scratch,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"reconcile failed: {err.decode()}")
    return [line for line in out.decode().splitlines() if line.startswith("order ")]


async def run_load(args: argparse.Namespace, shop: Shop, cluster: Cluster, secret: str,
                   products: list[str], users: list[str], admin: str, stripe: Stripe,
                   stripe_socket: socket.socket) -> tuple[Tally, list[Fault]]:  # fmt: skip
    tally = Tally()
    stop = time.monotonic() + args.duration
    rng = random.Random(args.seed)  # noqa: S311 - load shape, not secrets
    tokens = [issue_token(secret, user_id=uuid.UUID(u), generation=0, ttl=86400)[0] for u in users]
    admin_token = issue_token(secret, user_id=uuid.UUID(admin), generation=0, ttl=86400)[0]
    admin_headers = {"Authorization": f"Bearer {admin_token}"}
    async with (
        serving(stripe, stripe_socket),
        httpx.AsyncClient(base_url=shop.base, headers=admin_headers, timeout=20) as back_office,
    ):
        payer = Payer(stripe, back_office)
        customers = [
            customer(shop.base, t, products, random.Random(rng.random()), tally, stop, payer)  # noqa: S311
            for t in tokens
        ]
        faults, *_ = await asyncio.gather(chaos(shop, cluster, args.every, stop), *customers)
        assert faults is not None  # chaos() returns its faults; only the customers return None
        tally.reconciled = await reconcile(shop)
    recoveries(faults, tally.served_at)
    return tally, faults


def print_server_errors(scratch: Path) -> None:
    """What the servers logged at error level: why a 500 was answered."""
    for log in sorted(scratch.glob("server-*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if '"level": "error"' in line or "Traceback" in line:
                print(f"{log.name}: {line[:4000]}")


def main() -> int:
    args = parse_args()
    secret = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="comptoir-chaos-") as tmp:
        scratch = Path(tmp)
        (scratch / "data").mkdir()
        say(f"a throwaway PostgreSQL in {scratch}")
        cluster = Cluster(scratch)
        try:
            url = cluster.url("postgres")
            migrate.upgrade(url)
            products, users, admin = asyncio.run(load_shop(url, args.products, args.customers))
            stripe, stripe_socket = Stripe(), loopback_socket()
            stripe_base = f"http://127.0.0.1:{stripe_socket.getsockname()[1]}"
            shop = Shop(url, args.workers, secret, scratch, stripe_base)
            shop.start()
            try:
                asyncio.run(wait_ready(shop))
                say(f"load for {args.duration} s, a fault every {args.every:g} s")
                tally, faults = asyncio.run(
                    run_load(args, shop, cluster, secret, products, users, admin, stripe,
                             stripe_socket)
                )  # fmt: skip
            finally:
                shop.stop()
            checked = asyncio.run(verdict(url, tally.acknowledged, stripe))
            failed = report(args, tally, faults, checked)
            if failed:
                print_server_errors(scratch)
            return failed
        finally:
            cluster.stop("fast")


if __name__ == "__main__":
    sys.exit(main())
