"""What an import did, per file and per collection: every input record counted once as
imported, merged or rejected, what was not understood, the adjustments made on the way,
the accounts that cannot log in yet, and the reconciliation of the source against the
rows found in the database. `exit_code()` is the command's exit code (docs/import.md)."""

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

EXIT_OK = 0
EXIT_ERROR = 1  # nothing imported: the store or the mapping file could not be read
EXIT_REJECTED = 3  # some records rejected (see the rejects file); the rest committed
EXIT_NOT_UNDERSTOOD = 4  # a file or key holds records the import did not recognise
EXIT_NOT_RECONCILED = 5  # the database does not hold what the report counts
SHOWN_ACCOUNTS = 20


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
class FileOutcome:
    name: str
    collection: str
    form: str
    rule: str
    first: int = 0  # ordinal of its first record in the collection
    read: int = 0
    rejected: int = 0


@dataclass
class Report:
    source: str
    dry_run: bool
    collections: dict[str, Outcome]
    files: list[FileOutcome] = field(default_factory=list)
    not_understood: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # metadata, not records
    placeholder_products: int = 0
    guest_accounts: int = 0
    no_password: list[str] = field(default_factory=list)
    order_totals: dict[str, str] = field(default_factory=dict)
    # A re-import (cutover): per collection added, updated, unchanged, conflicting, gone.
    cutover: dict[str, Counter[str]] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    gone: dict[str, list[str]] = field(default_factory=dict)
    rejects_file: str | None = None
    all_or_nothing: bool = False
    committed: bool = False
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

    def rejected(self) -> int:
        return sum(outcome.rejected for outcome in self.collections.values())

    def complete(self) -> bool:
        """Every record of every file imported or merged."""
        return not self.not_understood and self.rejected() == 0

    def exit_code(self) -> int:
        if not self.reconciled():
            return EXIT_NOT_RECONCILED
        if self.not_understood:
            return EXIT_NOT_UNDERSTOOD
        if self.rejected():
            return EXIT_REJECTED
        return EXIT_OK

    def records(self) -> int:
        return sum(outcome.read for outcome in self.collections.values())

    def as_json(self) -> dict[str, Any]:
        # asdict() would rebuild each Counter from its items, counting the pairs themselves.
        document = {**vars(self), "collections": {
            name: {**vars(outcome), "notes": dict(outcome.notes),
                   "reasons": dict(outcome.reasons)}
            for name, outcome in self.collections.items()
        }, "files": [vars(file) for file in self.files]}  # fmt: skip
        document["balanced"] = self.balanced()
        document["reconciled"] = self.reconciled()
        document["exit_code"] = self.exit_code()
        return document

    def print(self, console: Console) -> None:
        self._print_files(console)
        self._print_collections(console)
        for name, why in self.not_understood:
            console.print(f"[red]NOT UNDERSTOOD[/red] {escape(name)}: {escape(why)}")
        for name, why in self.skipped:
            console.print(f"  not records: {escape(name)}: {escape(why)}", highlight=False)
        if self.placeholder_products:
            console.print(
                f"  products: {self.placeholder_products:,} placeholders created for products"
                " that orders name but the store lacks"
            )
        if self.guest_accounts:
            console.print(f"  users: {self.guest_accounts:,} accounts created for guest orders")
        self._print_passwords(console)
        self._print_cutover(console)
        totals = self.order_totals
        console.print(
            f"order totals: {totals.get('stated')} as stated in the source, "
            f"{totals.get('lines')} from their lines, {totals.get('stored')} in the database"
        )
        if self.rejects_file:
            console.print(
                f"rejected records (every problem of each) written to {self.rejects_file}"
            )
        self._print_verdict(console)

    def _print_files(self, console: Console) -> None:
        table = Table(title="files and keys found")
        headings = ("source", "container", "collection", "decided by", "read",
                    "imported or merged", "rejected")  # fmt: skip
        for heading in headings:
            table.add_column(heading, justify="left" if heading in headings[:4] else "right")
        for f in self.files:
            kept = "kept as source form" if f.collection == "skip" else f"{f.read - f.rejected:,}"
            table.add_row(escape(f.name), f.form, f.collection, escape(f.rule), f"{f.read:,}",
                          kept, f"{f.rejected:,}")  # fmt: skip
        for name, _ in self.not_understood:
            table.add_row(escape(name), "", "NOT UNDERSTOOD", "", "", "", "")
        console.print(table)

    def _print_collections(self, console: Console) -> None:
        title = f"import of {self.source}" + (" (dry run)" if self.dry_run else "")
        table = Table(title=escape(title))
        for heading in ("collection", "read", "imported", "merged", "rejected", "in database"):
            table.add_column(heading, justify="left" if heading == "collection" else "right")
        for name, o in self.collections.items():
            already = f" ({o.already_present:,} already)" if o.already_present else ""
            table.add_row(name, f"{o.read:,}", f"{o.imported:,}{already}", f"{o.merged:,}",
                          f"{o.rejected:,}", f"{o.found:,}")  # fmt: skip
        console.print(table)
        for name, outcome in self.collections.items():
            for reason, n in sorted(outcome.reasons.items()):
                console.print(f"  {name}: {n:,} rejected: {escape(reason)}", highlight=False)
            for note, n in sorted(outcome.notes.items()):
                console.print(f"  {name}: {n:,} {escape(note)}", highlight=False)

    def _print_passwords(self, console: Console) -> None:
        if not self.no_password:
            return
        shown = ", ".join(self.no_password[:SHOWN_ACCOUNTS])
        more = len(self.no_password) - SHOWN_ACCOUNTS
        console.print(
            f"{len(self.no_password):,} accounts cannot log in until a password is set: "
            f"{escape(shown)}{f' and {more:,} more' if more > 0 else ''}. An operator sets one"
            " with `comptoir users set-password EMAIL`.",
            highlight=False,
        )

    def _print_cutover(self, console: Console) -> None:
        if not self.cutover:
            return
        table = Table(title="since the last import of this store")
        verdicts = ("added", "updated", "unchanged", "conflicting", "gone")
        table.add_column("collection")
        for verdict in verdicts:
            table.add_column(verdict, justify="right")
        for name, counts in self.cutover.items():
            table.add_row(name, *(f"{counts[v]:,}" for v in verdicts))
        console.print(table)
        for conflict in self.conflicts[:SHOWN_ACCOUNTS]:
            console.print(f"  conflict, Comptoir's version kept: {escape(json.dumps(conflict))}",
                          highlight=False)  # fmt: skip
        for name, ids in self.gone.items():
            if ids:
                shown = ", ".join(ids[:SHOWN_ACCOUNTS])
                console.print(f"  {name} gone from the store (kept here): {escape(shown)}",
                              highlight=False)  # fmt: skip

    def _print_verdict(self, console: Console) -> None:
        rate = self.records() / self.seconds if self.seconds else 0.0
        counts = "counts add up" if self.reconciled() else "COUNTS DO NOT ADD UP"
        if self.complete():
            verdict = "every record imported or merged"
        else:
            verdict = f"INCOMPLETE: {self.rejected():,} records rejected"
            if self.not_understood:
                verdict += f", {len(self.not_understood)} files or keys not understood"
        if self.dry_run:
            state = "dry run, nothing committed"
        elif not self.committed:
            state = "--all-or-nothing: nothing committed"
        else:
            state = "committed"
        console.print(
            f"{self.records():,} records in {self.seconds:.1f} s ({rate:,.0f}/s): {verdict};"
            f" {counts} (reconciled: {'yes' if self.reconciled() else 'no'}); {state};"
            f" exit code {self.exit_code()}",
            highlight=False,
        )
