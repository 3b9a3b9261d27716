"""The back office's page at /admin/ and its assets: static files of this package, served
with a Content-Security-Policy that lets the page run only its own scripts and styles.

The page is a client of the public API (it signs in with POST /v1/auth/session); nothing
here reads the database. The files are plain ES modules and CSS, committed as written: no
build step, nothing from a CDN.
"""

import re
from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter, Response

from comptoir.errors import NotFound

router = APIRouter(include_in_schema=False)

STATIC = files("comptoir.backoffice") / "static"
# No 'unsafe-inline', no 'unsafe-eval': a value that slipped into the page as markup could
# neither run a script nor carry a style. Images may come from the shop's CDN (https).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:;"
    " connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none';"
    " frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Small files: revalidated on each load, so that an upgrade shows at once.
    "Cache-Control": "no-cache",
}
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
# Asset names: plain file names, nothing that climbs out of the folder.
ASSET = re.compile(r"[a-z][a-z0-9-]*\.(js|css)")


def _file(path: Traversable, suffix: str) -> Response:
    if not path.is_file():
        raise NotFound("No such file.")
    media = TYPES[suffix] + "; charset=utf-8"
    return Response(path.read_bytes(), media_type=media, headers=HEADERS)


@router.get("/admin")
async def admin_redirect() -> Response:
    # A relative Location: built from nothing the caller sent.
    return Response(status_code=308, headers={"Location": "/admin/"})


@router.get("/admin/")
async def admin_page() -> Response:
    """The back office's single page; its routes are in the fragment (#/orders)."""
    return _file(STATIC / "index.html", ".html")


def _asset(folder: Traversable, asset: str) -> Response:
    if not ASSET.fullmatch(asset):
        raise NotFound("No such file.")
    return _file(folder / asset, "." + asset.rsplit(".", 1)[1])


@router.get("/admin/assets/{asset}")
async def admin_asset(asset: str) -> Response:
    return _asset(STATIC, asset)


@router.get("/admin/assets/pages/{asset}")
async def admin_page_module(asset: str) -> Response:
    return _asset(STATIC / "pages", asset)
