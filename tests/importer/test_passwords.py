"""Every verifiable scheme of the contract logs in through the API with the old password,
moves to argon2id on that first login, and its hash string never logs in; an unknown
scheme gives an account that cannot log in until an operator sets a password."""

import json
from pathlib import Path

import asyncpg
import httpx

from comptoir.importer.mapping import Mapping, PasswordRules
from comptoir.importer.run import HASHING, import_store
from comptoir.users.admins import create_or_promote_admin, set_password
from tests.factories import TEST_HASHER
from tests.importer import legacy_hashes as h
from tests.importer.conftest import login, run_import, write_store

PASSWORD = "Old-Secret-42"
SALTED_PBKDF2, SALT = h.node_pbkdf2_sha512(PASSWORD)
# (email, password field, its value, extra fields): one user per scheme, as each app kept it.
ACCOUNTS = [
    ("plain@shop.test", "password", PASSWORD, {}),
    ("bcrypt2a@shop.test", "password", h.bcrypt_hash(PASSWORD, "$2a$"), {}),
    ("bcrypt2b@shop.test", "passwordHash", h.bcrypt_hash(PASSWORD, "$2b$"), {}),
    ("bcrypt2y@shop.test", "hashedPassword", h.bcrypt_hash(PASSWORD, "$2y$"), {}),
    ("argon2@shop.test", "password", h.argon2id(PASSWORD), {}),
    ("nodescrypt@shop.test", "password", h.node_scrypt_pair(PASSWORD), {}),
    ("nodepbkdf2@shop.test", "hash", SALTED_PBKDF2, {"salt": SALT}),
    ("phcscrypt@shop.test", "password", h.phc_scrypt(PASSWORD), {}),
    ("phcpbkdf2@shop.test", "password", h.phc_pbkdf2_sha256(PASSWORD), {}),
    ("django@shop.test", "password", h.django_pbkdf2(PASSWORD), {}),
    ("werkzeugpbkdf2@shop.test", "password_hash", h.werkzeug_pbkdf2(PASSWORD), {}),
    ("werkzeugscrypt@shop.test", "password_hash", h.werkzeug_scrypt(PASSWORD), {}),
    ("sha256@shop.test", "password", h.bare_sha256(PASSWORD), {}),
    ("md5@shop.test", "password", h.bare_md5(PASSWORD), {}),
]


def users() -> list[dict[str, object]]:
    return [{"id": n, "email": email, field: value, **extra}
            for n, (email, field, value, extra) in enumerate(ACCOUNTS)]  # fmt: skip


async def test_each_scheme_logs_in_with_the_old_password_and_never_with_the_hash(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    store = write_store(tmp_path / "store", users=users())
    report = await run_import(import_url, store)
    assert report.collections["users"].imported == len(ACCOUNTS) and report.exit_code() == 0

    for email, _, value, _ in ACCOUNTS:
        if value != PASSWORD:
            assert await login(shop, email, value) == 401, f"{email}: the hash logged in"
        assert await login(shop, email, PASSWORD) == 200, email
        stored = await idb.fetchval("SELECT password_hash FROM users WHERE email = $1", email)
        assert stored.startswith("$argon2id$"), f"{email} not rehashed: {stored[:20]}"
        assert await login(shop, email, PASSWORD) == 200, email


async def test_the_mapping_file_names_the_pbkdf2_iterations_of_hex_hashes(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    digest, salt = h.node_pbkdf2_sha512(PASSWORD, iterations=4_096)  # no default tries 4096
    user = {"id": 1, "email": "ann@shop.test", "hash": digest, "salt": salt}
    store = write_store(tmp_path / "store", users=[user])
    rules = PasswordRules("pbkdf2-sha512", 4_096)
    await run_import(import_url, store, mapping=Mapping(passwords=rules))
    assert await login(shop, "ann@shop.test", PASSWORD) == 200


async def test_a_weak_digest_is_stored_only_wrapped_in_argon2id(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    user = {"id": 1, "email": "ann@shop.test", "password": h.bare_sha256(PASSWORD)}
    store = write_store(tmp_path / "store", users=[user])
    await run_import(import_url, store)
    stored = await idb.fetchval("SELECT password_hash FROM users")
    assert h.bare_sha256(PASSWORD) not in stored


async def test_an_unknown_scheme_cannot_log_in_until_an_operator_sets_a_password(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    odd = "$whirlpool$v=1$c2FsdA$aGFzaA"
    store = write_store(tmp_path / "store", users=[
        {"id": 1, "email": "odd@shop.test", "password": odd},
        {"id": 2, "email": "none@shop.test"},
    ])  # fmt: skip
    report = await run_import(import_url, store)

    assert report.no_password == ["none@shop.test", "odd@shop.test"]
    assert await login(shop, "odd@shop.test", odd) == 401
    assert (
        await idb.fetchval("SELECT password_hash FROM users WHERE email = 'odd@shop.test'") is None
    )
    assert report.rejects_file is None  # nothing rejected: the accounts are there
    assert odd not in json.dumps(report.as_json())

    message = await set_password(import_url, email="odd@shop.test", password="new-password-9")
    assert "password of odd@shop.test set" in message
    assert await login(shop, "odd@shop.test", "new-password-9") == 200


async def test_create_admin_of_an_imported_account_says_what_it_did_to_the_password(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    store = write_store(tmp_path / "store", users=[
        {"id": 1, "email": "kept@shop.test", "password": h.bcrypt_hash(PASSWORD)},
        {"id": 2, "email": "bare@shop.test"},
    ])  # fmt: skip
    await run_import(import_url, store)

    kept = await create_or_promote_admin(import_url, email="kept@shop.test", password=None)
    assert "is now an admin; its password is unchanged" in kept
    bare = await create_or_promote_admin(import_url, email="bare@shop.test", password=None)
    assert "is now an admin; it has no password, so it cannot log in" in bare
    assert "comptoir users set-password bare@shop.test" in bare
    assert await login(shop, "kept@shop.test", PASSWORD) == 200


async def test_the_progress_shows_the_passwords_being_hashed(
    import_url: str, tmp_path: Path
) -> None:
    """argon2id takes a tenth of a second a password at the shop's cost: a store of
    plain-text passwords spends minutes on them, and the progress bar says so instead of
    standing still. Hashes already in the store are not counted: they are not hashed."""
    users = [{"email": f"p{n}@shop.test", "password": f"Plain-Secret-{n}"} for n in range(3)]
    users.append({"email": "b@shop.test", "passwordHash": h.bcrypt_hash(PASSWORD)})
    seen: list[tuple[int, int]] = []

    def progress(collection: str, done: int, total: int) -> None:
        if collection == HASHING:
            seen.append((done, total))

    root = write_store(tmp_path / "store", users=users)
    await import_store(
        import_url, root, rejects_path=tmp_path / "rejects.jsonl", progress=progress,
        hasher=TEST_HASHER,
    )  # fmt: skip
    assert sorted(seen) == [(1, 3), (2, 3), (3, 3)]
