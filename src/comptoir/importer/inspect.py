"""`comptoir inspect PATH`: a store profiled before anything is written, and a draft
mapping file for the owner to complete.

The profile runs the same discovery, recognition and record checks as the import (no
database): files and containers, collections and the rule that decided, record counts,
each field with its types, an example (secrets masked) and where it would go, and what
would be rejected and why. The draft names every file and key, and leaves `""` where the
owner must decide: a file nothing recognised, a status word the default table lacks, a
field no alias found.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from comptoir.importer import orders, records, run
from comptoir.importer.aliases import ALIASES, View
from comptoir.importer.discover import Unit
from comptoir.importer.fields import Unusable
from comptoir.importer.mapping import Mapping
from comptoir.importer.recognise import COLLECTIONS, SKIP

PROFILED = 2_000  # records per unit whose fields are profiled (all are checked)
MISSING = re.compile(r"no (\w+) \(expected")


@dataclass
class FieldProfile:
    types: Counter[str] = field(default_factory=Counter)
    example: str = ""
    goes_to: str = ""


@dataclass
class UnitProfile:
    unit: Unit
    records: int = 0
    fields: dict[str, FieldProfile] = field(default_factory=dict)
    rejects: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    unknown_statuses: set[str] = field(default_factory=set)
    no_status: int = 0
    missing: Counter[str] = field(default_factory=Counter)  # records lacking a field
    integer_prices: bool = True


@dataclass
class Profile:
    path: Path
    units: list[UnitProfile]
    skipped: list[tuple[str, str]]
    mapping: Mapping

    def print(self, console: Console) -> None:
        for profile in self.units:
            unit = profile.unit
            title = (f"{unit.name} — {unit.form}, {profile.records:,} records → "
                     f"{unit.collection or 'NOT UNDERSTOOD'}"
                     + (f" (by {unit.rule})" if unit.rule else ""))  # fmt: skip
            table = Table(title=escape(title), title_justify="left")
            for heading in ("field", "types", "example", "goes to"):
                table.add_column(heading, overflow="fold")
            for name, f in profile.fields.items():
                types = ", ".join(f"{t} {n}" for t, n in f.types.most_common())
                table.add_row(escape(name), types, escape(f.example), escape(f.goes_to))
            console.print(table)
            for reason, n in profile.rejects.most_common():
                console.print(f"  would reject {n:,}: {escape(reason)}", highlight=False)
        for name, why in self.skipped:
            console.print(f"not records: {escape(name)}: {escape(why)}", highlight=False)


def profile(path: Path, mapping: Mapping) -> Profile:
    units, report = run.plan(path, mapping)
    context = records.Context(mapping, PasswordHasher())
    return Profile(path, [_profile_unit(u, context) for u in units], report.skipped, mapping)


def _profile_unit(unit: Unit, context: records.Context) -> UnitProfile:
    result = UnitProfile(unit)
    convert = run.CONVERTERS.get(unit.collection or "")
    aliases = ALIASES.get(unit.collection or "", {})
    for record in unit.records():
        result.records += 1
        if result.records <= PROFILED:
            _profile_fields(result, record.value, aliases, context, unit.collection or "")
        if convert is None:
            continue
        try:
            convert(record, context)
        except Unusable as reason:
            for problem in str(reason).split("; "):
                result.rejects[problem.split(" (")[0][:100]] += 1
                if found := MISSING.match(problem):
                    result.missing[found.group(1)] += 1
                if problem.startswith("unknown status"):
                    result.unknown_statuses.add(problem.split('"')[1].strip().lower())
        if unit.collection == "orders" and isinstance(record.value, dict):
            view = View(record.value, ALIASES["orders"], context.mapping.fields_of("orders"))
            if view.get("status") is None:
                result.no_status += 1
    return result


def _profile_fields(
    result: UnitProfile, value: Any, aliases: dict[str, tuple[str, ...]],
    context: records.Context, collection: str,
) -> None:  # fmt: skip
    if not isinstance(value, dict):
        value = {"(value)": value}
    view = View(value, aliases, context.mapping.fields_of(collection))
    destinations: dict[str, str] = {}
    for canonical in aliases:
        if (key := view.field(canonical)) is not None:
            destinations.setdefault(key, canonical)
    rest = "attributes" if collection == "products" else "source form (kept for support)"
    for key, item in value.items():
        profile = result.fields.setdefault(key, FieldProfile())
        profile.types[type(item).__name__ if item is not None else "null"] += 1
        if not profile.example and item not in (None, "", [], {}):
            shown = records.masked({key: item})[key]
            profile.example = str(shown)[:60]
        profile.goes_to = profile.goes_to or (destinations.get(key) or rest)
        if collection == "products" and destinations.get(key) == "price":
            result.integer_prices &= isinstance(item, int)


def blanks(profile: Profile) -> int:
    return draft_mapping(profile).count('= ""')


def draft_mapping(profile: Profile) -> str:
    mapping = profile.mapping
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Mapping for the store {profile.path}, drafted by `comptoir inspect` ({now}).",
        '# Fill in every "" below; `comptoir import-json --map` refuses a mapping with blanks.',
        "",
        f'currency = "{mapping.currency or "EUR"}"  # the currency of the store\'s prices',
    ]
    integers = all(p.integer_prices for p in profile.units if p.unit.collection == "products")
    unit = "cents" if mapping.cents else "units"
    lines.append(f'price_unit = "{unit}"' + ("  # every price is an integer: if they are cents,"
                                            ' write "cents"' if integers else ""))  # fmt: skip
    if any(p.no_status for p in profile.units) and not mapping.default_status:
        lines.append('default_status = ""  # orders without a status: pending, paid, shipped'
                     " or cancelled")  # fmt: skip
    lines += ["", "[collections]  # users, products, carts, orders, leads, analytics, or skip"]
    for p in profile.units:
        target = p.unit.collection or ""
        why = f"by {p.unit.rule}" if p.unit.rule else "NOT UNDERSTOOD: say which, or skip"
        lines.append(f'"{p.unit.name}" = "{target}"  # {p.unit.form}, {p.records:,} records, {why}')
        if not p.unit.collection:
            # The owner names its fields below in the same edit: they are listed here.
            lines.append(f"#   its fields: {', '.join(list(p.fields)[:20])}")
    lines += _fields_sections(profile)
    words = set().union(*(p.unknown_statuses for p in profile.units))
    lines += ["", "[statuses]  # the shop's word = pending, paid, shipped or cancelled"]
    lines += [f'"{k}" = "{v}"' for k, v in mapping.statuses.items()]
    lines += [f'"{word}" = ""' for word in sorted(words - set(mapping.statuses))]
    seen = sorted({w for p in profile.units for w in p.statuses} - set(orders.STATUSES))
    lines += [f"# also seen: {', '.join(seen)}"] if seen else []
    lines += ["", "[passwords]  # only for hex hashes with a salt, when you know the scheme",
              '# scheme = "pbkdf2-sha512"  # or scrypt, pbkdf2-sha256, sha256, plain, ...',
              "# iterations = 100000", '# salt = "text"  # or "hex"']  # fmt: skip
    if mapping.passwords.scheme:
        lines.append(f'scheme = "{mapping.passwords.scheme}"')
    skipped = [p.unit.name for p in profile.units if p.unit.collection == SKIP]
    if skipped:
        lines += ["", f"# skipped on purpose (kept as source form only): {', '.join(skipped)}"]
    return "\n".join(lines) + "\n"


def _fields_sections(profile: Profile) -> list[str]:
    """One section per collection (and order lines), with the fields no alias found as
    blanks and the mapping's own lines; an empty section is where the owner adds lines."""
    lines = []
    for collection in (*COLLECTIONS, "lines"):
        if collection == "analytics":
            continue
        units = [p for p in profile.units if p.unit.collection == collection]
        known = profile.mapping.fields_of(collection)
        lines += ["", f"[fields.{collection}]  # for: {', '.join(ALIASES[collection])}"]
        lines += [f'{k} = "{v}"' for k, v in known.items()]
        for name in sorted({n for p in units for n in p.missing} - set(known)):
            if name not in ALIASES[collection]:
                continue
            lacking, records = sum(p.missing[name] for p in units), sum(p.records for p in units)
            # A field most records lack is a name no alias knows: a blank to fill. A few
            # records without it are records to fix, not a name to give.
            if lacking * 2 >= records:
                lines.append(f'{name} = ""')
            else:
                lines.append(f"# {name}: {lacking:,} of {records:,} records have none (rejected)")
    return lines
