"""The project's documents stand alone: a reader of the repository (or of the package's
README) never gets sent to a file that is not in it."""

import re
from pathlib import Path

from comptoir.settings import Settings

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


def test_pgbouncer_advice_is_what_ci_runs() -> None:
    """Transaction pooling once delivered one process's results to another (issue 14); it
    is safe since issue 21, and tested through a real PgBouncer: the docs give that setup,
    and the settings it names are the app's."""
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text[text.index("## PgBouncer") :]
    section = section[: section.index("\n## ", 1)]
    assert "deployment.md#pgbouncer" in section
    deployment = (ROOT / "docs" / "deployment.md").read_text()
    assert "pool_mode = transaction" in deployment
    assert "tests/pooling/test_pgbouncer.py" in deployment
    assert (ROOT / "tests" / "pooling" / "test_pgbouncer.py").exists()
    for name in ("COMPTOIR_POOLER", "COMPTOIR_APP_DATABASE_URL", "COMPTOIR_STATEMENT_CACHE_SIZE"):
        field = name.removeprefix("COMPTOIR_").lower()
        assert field in Settings.model_fields, name
