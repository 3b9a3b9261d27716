"""The OpenAPI document, telling the truth about errors: every 4xx and 5xx answer is
application/problem+json (RFC 9457), and every operation may answer 500, every operation
with input 400 and 422, every operation behind a token 401."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

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
    return schema


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
