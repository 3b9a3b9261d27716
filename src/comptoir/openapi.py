"""The OpenAPI document, telling the truth about errors: every 4xx and 5xx answer is
application/problem+json (RFC 9457), and every operation may answer 500, every operation
with input 400 and 422, every operation behind a token 401."""

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

PROBLEM = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Validation errors: where, what.",
            "items": {"type": "object"},
        },
    },
    "additionalProperties": True,
}
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
DEFAULTS = {
    "400": "The request could not be read (malformed JSON, say).",
    "422": "The request is not valid: `errors` says where.",
    "500": "Something went wrong on the server; nothing about it is disclosed.",
}


def _document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            _problems(operation)
            _required_headers(operation)
    return schema


# Headers a route checks itself, to answer a problem of its own (400 without a key) rather
# than the validation error a required parameter gets: required all the same.
REQUIRED_HEADERS = {"Idempotency-Key"}


def _required_headers(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name") in REQUIRED_HEADERS:
            parameter["required"] = True
            schema = parameter.get("schema", {})
            # Optional in the signature is `anyOf: [string, null]`: required, it is a string.
            if "anyOf" in schema:
                string = next(s for s in schema["anyOf"] if s.get("type") == "string")
                parameter["schema"] = {**string, "title": schema.get("title", "")}


def _problems(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    has_input = bool(operation.get("parameters") or operation.get("requestBody"))
    for code, description in DEFAULTS.items():
        if code == "500" or has_input:
            responses.setdefault(code, {"description": description})
    if operation.get("security"):
        responses.setdefault("401", {"description": "Missing, invalid or expired token."})
    for code, response in responses.items():
        if code[0] in "45":
            response["content"] = PROBLEM_CONTENT


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented override


# The docs pages' scripts and styles, served by this server: FastAPI's defaults load them
# from a CDN, without integrity, and show a blank page without internet. fastapi-offline
# ships Swagger UI and ReDoc's bundles (kept current with their releases); we take only
# its files, the pages stay FastAPI's own.
DOCS_ASSETS = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs, ReDoc at /redoc, every asset from DOCS_ASSETS; the app must be
    built with docs_url=None and redoc_url=None."""
    static = files("fastapi_offline") / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(static)), name="docs-assets")
    favicon = f"{DOCS_ASSETS}/favicon.png"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=favicon,
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )
