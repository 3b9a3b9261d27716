"""Two commits, the same benchmarks, taking turns: is a change within noise?

A benchmark's figures move with the machine by a fifth from one minute to the next, more
than most changes move them. So the two sides run alternately (old, new, old, new...) in
one sitting, each from a git worktree of its commit with its own `bench/` scripts, on this
virtualenv's libraries (`PYTHONPATH=<worktree>/src`), and each figure is given per round
next to the other side's.

    python bench/paired.py OLD NEW [--rounds 2] [--bench checkout catalog]

`OLD` and `NEW` are any git revisions of this repository. Take the heavy-work lock
(`flock /tmp/comptoir-heavy.lock`) around it so that nothing else runs meanwhile.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from harness import run, say

REPOSITORY = Path(__file__).resolve().parent.parent

# The figures each script prints in its summary table: a row's name, then its rate.
FIGURES = {
    "checkout": re.compile(r"^(http random|http hot|pgbench-random|pgbench-hot)\s+([\d.]+)", re.M),
    "catalog": re.compile(
        r"^(GET /v1/products \(first page\)|GET /v1/products \(deep page\)"
        r"|GET /v1/products/search|SQL first page|SQL deep page)\s+([\d,]+)",
        re.M,
    ),
}
ARGUMENTS = {"checkout": [], "catalog": ["--no-profile"]}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", help="the revision before the change")
    parser.add_argument("new", help="the revision with it")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--bench", nargs="+", default=["checkout", "catalog"], choices=FIGURES)
    return parser.parse_args()


def git(*arguments: str) -> None:
    run(["/usr/bin/git", "-C", str(REPOSITORY), *arguments])


def figures(bench: str, tree: Path) -> dict[str, float]:
    # The tree's own script, which imports the tree's harness (its own folder) and, through
    # PYTHONPATH, the tree's comptoir.
    output = run(
        [sys.executable, str(tree / "bench" / f"{bench}.py"), *ARGUMENTS[bench]],
        env={**os.environ, "PYTHONPATH": str(tree / "src")},
    )
    return {name: float(rate.replace(",", "")) for name, rate in FIGURES[bench].findall(output)}


def main() -> None:
    args = parse_args()
    runs: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with tempfile.TemporaryDirectory(prefix="comptoir-paired-") as tmp:
        trees = {"old": Path(tmp) / "old", "new": Path(tmp) / "new"}
        git("worktree", "add", "--detach", "-q", str(trees["old"]), args.old)
        git("worktree", "add", "--detach", "-q", str(trees["new"]), args.new)
        try:
            for round_ in range(1, args.rounds + 1):
                for bench in args.bench:
                    # Each round starts with the other side, so neither always runs first.
                    for side in ("old", "new") if round_ % 2 else ("new", "old"):
                        say(f"round {round_}: {bench} at {side}")
                        for name, rate in figures(bench, trees[side]).items():
                            runs[(bench, name)][side].append(rate)
        finally:
            for tree in trees.values():
                git("worktree", "remove", "--force", str(tree))
    print(f"\n{args.old} (old) against {args.new} (new), {args.rounds} rounds, per second")
    print(f"{'figure':40} {'old':>22} {'new':>22} {'new/old':>8}")
    for (bench, name), sides in runs.items():
        old, new = sides["old"], sides["new"]
        ratio = (sum(new) / len(new)) / (sum(old) / len(old))
        print(
            f"{bench + ': ' + name:40} {' / '.join(f'{x:,.0f}' for x in old):>22}"
            f" {' / '.join(f'{x:,.0f}' for x in new):>22} {ratio:8.2f}"
        )


if __name__ == "__main__":
    main()
