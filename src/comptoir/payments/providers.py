"""Which payment provider the settings configure: the one place that knows them all (a
second provider is one more line here, and a class behind the seam of provider.py)."""

from comptoir.payments.provider import Provider
from comptoir.payments.stripe import StripeProvider
from comptoir.settings import Settings


def configured(settings: Settings) -> Provider | None:
    """Stripe when its keys are set; otherwise none, and checkout works as it always did."""
    if settings.stripe_secret_key:
        return StripeProvider(settings)
    return None
