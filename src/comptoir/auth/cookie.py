"""The browser session of the back office: the access token in an httpOnly cookie, and the
CSRF token that unsafe requests carrying that cookie must echo in a header.

The token is out of reach of any script (httpOnly), sent only by pages of the API's own
site (SameSite=Strict), and only over HTTPS when the API is served over HTTPS (Secure). A
forged request from another site carries no cookie; a same-site one that the browser sends
on its own (a form post) cannot add the header, which only a script of the page can read
from the second, readable cookie. The CSRF token is derived from the access token's id, so
the server keeps nothing for it and it dies with the session.
"""

import hashlib
import hmac
from uuid import UUID

from fastapi import Request, Response

SESSION_COOKIE = "comptoir_session"
CSRF_COOKIE = "comptoir_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(secret: str, jti: UUID) -> str:
    return hmac.new(secret.encode(), f"csrf:{jti}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(request: Request, secret: str, jti: UUID) -> bool:
    """Whether a request made with the session cookie may act: safe methods always, unsafe
    ones only with the header that a script of the back office adds."""
    if request.method in SAFE_METHODS:
        return True
    sent = request.headers.get(CSRF_HEADER, "")
    return hmac.compare_digest(sent, csrf_token(secret, jti))


def set_session(response: Response, request: Request, *, token: str, csrf: str, ttl: int) -> None:
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE, token, max_age=ttl, httponly=True, secure=secure, samesite="strict"
    )
    # Readable by the page's scripts (that is its point): it proves nothing on its own.
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=ttl, httponly=False, secure=secure, samesite="strict"
    )


def clear_session(response: Response, request: Request) -> None:
    secure = request.url.scheme == "https"
    for name, httponly in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, httponly=httponly, secure=secure, samesite="strict")
