"""Capturing leads (anyone), listing and exporting them (admins)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import AwareDatetime, EmailStr

from comptoir.auth.deps import StaffDb
from comptoir.deps import PublicDb, limited
from comptoir.errors import Responses
from comptoir.leads import export, queries
from comptoir.leads.schemas import Lead, LeadIn, LeadPage
from comptoir.pagination import Cursor, Limit, decode_time_id
from comptoir.periods import period
from comptoir.responses import raw_json

router = APIRouter(tags=["leads"])

leads_limit = limited("leads", lambda settings: settings.leads_rate_limit)

LISTING: Responses = {
    200: {
        "description": "The leads: JSON pages, or with `Accept: text/csv` all of them as CSV.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    401: {"description": "No token"},
    403: {"description": "Not an admin"},
}


@router.post(
    "/v1/leads",
    status_code=201,
    dependencies=[Depends(leads_limit)],
    responses={429: {"description": "Rate limited"}},
)
async def capture_lead(body: LeadIn, db: PublicDb) -> Lead:
    """Leave a contact request: name, email, message. Rate limited per client address."""
    return await db.one(queries.insert_lead, name=body.name, email=body.email, message=body.message)


def wants_csv(accept: str | None) -> bool:
    return accept is not None and "text/csv" in accept.lower()


@router.get("/v1/admin/leads", response_model=LeadPage, responses=LISTING)
async def list_leads(
    db: StaffDb,
    since: Annotated[
        AwareDatetime | None, Query(alias="from", description="From this instant (included).")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(alias="to", description="Until this instant (excluded).")
    ] = None,
    email: Annotated[EmailStr | None, Query(description="Only this address's leads.")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Leads, newest first. With `Accept: text/csv`: every lead of the filters (no paging),
    streamed as CSV; cells that a spreadsheet would run as formulas are neutralised."""
    since, until = period(since, until)
    if wants_csv(accept):
        filters = queries.LeadFilter(email=email, since=since, until=until)
        return StreamingResponse(
            export.leads_csv(db, filters=filters),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="leads.csv"'},
        )
    filters = queries.LeadFilter(
        email=email, since=since, until=until, after=decode_time_id(cursor) if cursor else None
    )
    return raw_json(await db.one(queries.list_leads_json, filters=filters, limit=limit))
