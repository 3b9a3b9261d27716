"""Errors as RFC 9457 problem+json, and nothing else: no stack trace, no SQL, ever."""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

# The `responses=` of a route, for the OpenAPI document.
Responses = dict[int | str, dict[str, Any]]

log = logging.getLogger("comptoir.errors")


class AppError(Exception):
    """A failure the client can act on; subclasses fix status and title."""

    status: int = 500
    title: str = "Internal Server Error"

    def __init__(
        self, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra


class BadRequest(AppError):
    status = 400
    title = "Bad Request"


class Unauthorized(AppError):
    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str = "Missing, invalid or expired token.", **extra: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extra)


class Forbidden(AppError):
    status = 403
    title = "Forbidden"


class NotFound(AppError):
    status = 404
    title = "Not Found"


class Conflict(AppError):
    status = 409
    title = "Conflict"


class Unprocessable(AppError):
    status = 422
    title = "Unprocessable Content"


class ServiceUnavailable(AppError):
    status = 503
    title = "Service Unavailable"


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem(exc.status, exc.detail, title=exc.title, headers=exc.headers, **exc.extra)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]} for err in exc.errors()
    ]
    return problem(422, "The request is not valid.", title=Unprocessable.title, errors=errors)


async def _unstorable_text(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL text cannot hold the NUL character (nor bytes outside UTF-8): the input is
    # at fault, not the server.
    return problem(
        422, "Text may not contain the NUL character (\\u0000).", title=Unprocessable.title
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "Something went wrong on our side.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(asyncpg.UntranslatableCharacterError, _unstorable_text)
    app.add_exception_handler(asyncpg.CharacterNotInRepertoireError, _unstorable_text)
    app.add_exception_handler(Exception, _unexpected)
