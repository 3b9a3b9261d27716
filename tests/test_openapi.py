"""The OpenAPI document as client generators read it: stable operation ids, the
Idempotency-Key header required, every error a problem."""

from fastapi import FastAPI

# The ids client generators name their methods after: changing one breaks every generated
# client, so a change here is a deliberate, visible one.
OPERATION_IDS = {
    ("POST", "/v1/auth/register"): "register",
    ("POST", "/v1/auth/login"): "login",
    ("POST", "/v1/auth/refresh"): "refresh",
    ("POST", "/v1/auth/logout"): "logout",
    ("POST", "/v1/auth/password-reset"): "request_password_reset",
    ("POST", "/v1/auth/password-reset/confirm"): "confirm_password_reset",
    ("POST", "/v1/auth/verify-email"): "verify_email",
    ("GET", "/v1/me"): "me",
    ("PATCH", "/v1/me"): "change_my_profile",
    ("POST", "/v1/me/email"): "change_my_email",
    ("POST", "/v1/me/email-verification"): "resend_email_verification",
    ("POST", "/v1/me/erasure"): "erase_my_account",
    ("PUT", "/v1/me/password"): "change_password",
    ("GET", "/v1/me/addresses"): "list_my_addresses",
    ("POST", "/v1/me/addresses"): "save_my_address",
    ("DELETE", "/v1/me/addresses/{address_id}"): "delete_my_address",
    ("POST", "/v1/checkout"): "checkout",
    ("GET", "/v1/orders"): "my_orders",
    ("GET", "/v1/admin/orders"): "all_orders",
}


def test_operation_ids_are_stable_and_unique(app: FastAPI) -> None:
    document = app.openapi()
    ids = {
        (method.upper(), path): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert len(set(ids.values())) == len(ids)
    assert {key: ids[key] for key in OPERATION_IDS} == OPERATION_IDS
    # Names, not paths: no generated suffix such as _v1_checkout_post.
    assert all("_v1_" not in i for i in ids.values())


def test_the_idempotency_key_is_required_in_the_document(app: FastAPI) -> None:
    checkout = app.openapi()["paths"]["/v1/checkout"]["post"]
    (header,) = [p for p in checkout["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["required"] is True
    assert header["schema"]["type"] == "string"


def test_new_errors_are_documented_as_problems(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    documented = {
        ("/v1/auth/refresh", "post", "401"),
        ("/v1/auth/password-reset/confirm", "post", "400"),
        ("/v1/auth/verify-email", "post", "409"),
        ("/v1/me/password", "put", "403"),
        ("/v1/me/erasure", "post", "403"),
        ("/v1/me/addresses", "post", "409"),
        ("/v1/checkout", "post", "403"),
    }
    for path, method, status in documented:
        content = paths[path][method]["responses"][status]["content"]
        assert list(content) == ["application/problem+json"], (path, status)
