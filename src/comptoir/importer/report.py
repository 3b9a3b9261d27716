"""What an import did, per collection: every input record counted once as imported,
merged or rejected, the adjustments made on the way, and the reconciliation of the
source against the rows found in the database."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass
class Outcome:
    read: int = 0
    imported: int = 0
    merged: int = 0
    rejected: int = 0
    already_present: int = 0  # imported by an earlier run of the same import
    found: int = 0  # rows in the database for the imported records, counted afterwards
    notes: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    def balanced(self) -> bool:
        return self.read == self.imported + self.merged + self.rejected


@dataclass
class Report:
    source: str
    dry_run: bool
    collections: dict[str, Outcome]
    placeholder_products: int = 0
    order_totals: dict[str, str] = field(default_factory=dict)
    rejects_file: str | None = None
    seconds: float = 0.0

    def balanced(self) -> bool:
        return all(outcome.balanced() for outcome in self.collections.values())

    def reconciled(self) -> bool:
        totals = self.order_totals
        return (
            self.balanced()
            and all(outcome.found == outcome.imported for outcome in self.collections.values())
            and totals.get("lines") == totals.get("stored")
        )

    def records(self) -> int:
        return sum(outcome.read for outcome in self.collections.values())

    def as_json(self) -> dict[str, Any]:
        # asdict() would rebuild each Counter from its items, counting the pairs themselves.
        document = {**vars(self), "collections": {
            name: {**vars(outcome), "notes": dict(outcome.notes),
                   "reasons": dict(outcome.reasons)}
            for name, outcome in self.collections.items()
        }}  # fmt: skip
        document["balanced"] = self.balanced()
        document["reconciled"] = self.reconciled()
        return document

    def print(self, console: Console) -> None:
        table = Table(title=f"import of {self.source}" + (" (dry run)" if self.dry_run else ""))
        for heading in ("collection", "read", "imported", "merged", "rejected", "in database"):
            table.add_column(heading, justify="left" if heading == "collection" else "right")
        for name, outcome in self.collections.items():
            table.add_row(
                name,
                f"{outcome.read:,}",
                f"{outcome.imported:,}"
                + (f" ({outcome.already_present:,} already)" if outcome.already_present else ""),
                f"{outcome.merged:,}",
                f"{outcome.rejected:,}",
                f"{outcome.found:,}",
            )
        console.print(table)
        for name, outcome in self.collections.items():
            for reason, n in sorted(outcome.reasons.items()):
                console.print(f"  {name}: {n:,} rejected: {reason}")
            for note, n in sorted(outcome.notes.items()):
                console.print(f"  {name}: {n:,} {note}")
        if self.placeholder_products:
            console.print(
                f"  products: {self.placeholder_products:,} placeholders created for products"
                " that orders name but the store lacks"
            )
        totals = self.order_totals
        console.print(
            f"order totals: {totals.get('stated')} as stated in the source, "
            f"{totals.get('lines')} from their lines, {totals.get('stored')} in the database"
        )
        if self.rejects_file:
            console.print(f"rejected records written to {self.rejects_file}")
        verdict = "reconciled" if self.reconciled() else "NOT reconciled"
        rate = self.records() / self.seconds if self.seconds else 0.0
        console.print(
            f"{self.records():,} records in {self.seconds:.1f} s ({rate:,.0f}/s): {verdict}"
            + ("; dry run, nothing committed" if self.dry_run else "")
        )
