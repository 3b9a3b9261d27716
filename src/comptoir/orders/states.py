"""The order state machine, in one place.

pending → paid → shipped, and cancellation from pending or paid. Cancelling puts the stock
back; shipped and cancelled are final.
"""

from typing import Literal

Status = Literal["pending", "paid", "shipped", "cancelled"]

MOVES: dict[str, frozenset[str]] = {
    "pending": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"shipped", "cancelled"}),
    "shipped": frozenset(),
    "cancelled": frozenset(),
}


def can_move(current: str, target: str) -> bool:
    return target in MOVES[current]


def returns_stock(target: str) -> bool:
    return target == "cancelled"
