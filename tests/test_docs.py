"""The project's documents stand alone: a reader of the repository (or of the package's
README) never gets sent to a file that is not in it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    ROOT / "bench" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
OUTSIDE = re.compile(r"(?<![\w.-])(?:\.\./)*(?:shared/|spec/)[\w./-]*")


def test_documents_name_no_file_outside_the_repository() -> None:
    found = {
        f"{doc.relative_to(ROOT)}: {match.group(0)}"
        for doc in DOCUMENTS
        for match in OUTSIDE.finditer(doc.read_text())
    }
    assert found == set()


def test_relative_links_lead_to_files_of_the_repository() -> None:
    broken = []
    for doc in DOCUMENTS:
        for target in LINK.findall(doc.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            path = (doc.parent / target).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []


def test_pgbouncer_advice_is_what_was_verified() -> None:
    """Transaction pooling delivered one process's results to another (issue 14): the docs
    must warn against it and give the session-mode setup that was verified."""
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text[text.index("## PgBouncer") :]
    section = section[: section.index("\n## ", 1)]
    assert "pool_mode = session" in section
    assert "ignore_startup_parameters = " in section
    assert "Do not use transaction pooling" in section
    assert "needs:" not in section  # no recipe for transaction pooling
