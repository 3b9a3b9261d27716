"""Moving an order through its states, with the stock that goes with it."""

from uuid import UUID

from comptoir.db.context import Context, Database
from comptoir.errors import Conflict, NotFound
from comptoir.orders import queries, states


async def move(
    db: Database,
    context: Context,
    *,
    order_id: UUID,
    target: str,
    owner: UUID | None,
    currency: str,
    only_from: str | None = None,
) -> str:
    """Move the order to `target` in one transaction; return the order document.

    `owner`: the customer who must own the order (None for an admin). `only_from`: a
    narrower rule for this caller (a customer cancels pending orders only).
    """
    async with db.transaction(context) as conn:
        order = await queries.lock_order(conn, order_id=order_id, owner=owner)
        if order is None:
            raise NotFound("No such order.")
        allowed = only_from is None or order["status"] == only_from
        if not (allowed and states.can_move(order["status"], target)):
            raise Conflict(
                f"An order that is {order['status']} cannot become {target}.",
                current_status=order["status"],
            )
        await queries.update_status(conn, order_id=order_id, status=target)
        if states.returns_stock(target):
            await queries.restock(conn, order_id=order_id)
        document = await queries.fetch_order_json(
            conn, order_id=order_id, owner=None, currency=currency
        )
    assert document is not None
    return document
