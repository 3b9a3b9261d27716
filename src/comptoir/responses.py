"""Responses whose JSON PostgreSQL already built: handed over as they are."""

from fastapi import Response


def raw_json(body: str, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=body, status_code=status_code, media_type="application/json", headers=headers
    )
