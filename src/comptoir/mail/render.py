"""The mails' words: a plain-text and an HTML body for each kind, with the shop's name and
links built from COMPTOIR_STOREFRONT_URL.

The outbox keeps what a mail is about (its kind and a few values), and the words are written
when the mail is sent, from the settings of the moment.
"""

from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlencode

from comptoir.settings import Settings

# The storefront's pages the links open; the page POSTs the token to the API.
RESET_PATH = "/reset-password"
VERIFY_PATH = "/verify-email"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def link(settings: Settings, path: str, token: str) -> str:
    return f"{settings.storefront_url.rstrip('/')}{path}?{urlencode({'token': token})}"


def render(kind: str, payload: dict[str, Any], settings: Settings) -> Rendered:
    shop = settings.shop_name
    if kind == "reset":
        url = link(settings, RESET_PATH, payload["token"])
        return _mail(
            f"{shop}: reset your password",
            [
                f"Someone (we hope you) asked to reset the password of your {shop} account.",
                "The link works once, for a limited time. If you did not ask, ignore this mail:"
                " your password stays as it is.",
            ],
            url,
            "Choose a new password",
            shop,
        )
    if kind == "verify":
        url = link(settings, VERIFY_PATH, payload["token"])
        return _mail(
            f"{shop}: confirm your email address",
            [f"Confirm that this address is yours to finish setting up your {shop} account."],
            url,
            "Confirm my address",
            shop,
        )
    if kind == "email_change":
        url = link(settings, VERIFY_PATH, payload["token"])
        return _mail(
            f"{shop}: confirm your new email address",
            [f"Confirm this address to make it your {shop} account's address."],
            url,
            "Confirm my new address",
            shop,
        )
    if kind == "register_attempt":
        url = link(settings, RESET_PATH, "")
        return _mail(
            f"{shop}: someone tried to register with your address",
            [
                f"Someone tried to create a {shop} account with this address, which already"
                " has one. If it was you, log in, or reset your password if you forgot it."
                " If not, you need not do anything.",
            ],
            url.removesuffix("?token="),
            "Reset my password",
            shop,
        )
    if kind == "password_changed":
        return _mail(
            f"{shop}: your password was changed",
            [
                f"The password of your {shop} account was just changed, and your other"
                " sessions were ended. If it was not you, reset your password now.",
            ],
            link(settings, RESET_PATH, "").removesuffix("?token="),
            "Reset my password",
            shop,
        )
    if kind == "order_placed":
        return _mail(
            f"{shop}: your order is placed",
            [
                f"Thank you for your order {payload['order_id']}, of {payload['total']}"
                f" {payload['currency']}.",
            ],
            f"{settings.storefront_url.rstrip('/')}/orders/{payload['order_id']}",
            "See my order",
            shop,
        )
    raise ValueError(f"unknown mail kind {kind!r}")


def _mail(subject: str, paragraphs: list[str], url: str, action: str, shop: str) -> Rendered:
    text = "\n\n".join([*paragraphs, f"{action}: {url}", f"-- {shop}"]) + "\n"
    html = (
        "<!doctype html><html><body>"
        + "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        + f'<p><a href="{escape(url)}">{escape(action)}</a></p>'
        + f"<p>&mdash; {escape(shop)}</p></body></html>"
    )
    return Rendered(subject, text, html)
