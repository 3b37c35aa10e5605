"""The Tradeline User Agreement: immutable published versions, and each order's acceptance evidence.

Writers: services.agreement_publish creates versions (never updates one); services.acceptance_record
creates an order's acceptance once, and services.acceptance_stripe_consent fills Stripe's consent
result once. Nothing else writes these tables; the admin shows them read-only.
"""

from django.conf import settings
from django.db import models

from tradeline.core.models import TimeStampedModel

TITLE_MAX = 200
BODY_MAX = 100_000


class AgreementVersion(TimeStampedModel):
    """One published text. `version` counts up from 1; `text_sha256` is the SHA-256 of `body` as
    UTF-8, computed once at publication, so evidence can prove which exact words were accepted."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        ordering = ("-version",)

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class AgreementAcceptance(TimeStampedModel):
    """The evidence that the customer of `order` accepted `agreement` (one per order).

    `client_ip` and `user_agent` are what our server saw on the checkout request (for an admin's
    direct sale: the admin's request, with `accepted_by` naming the admin). `stripe_consent` is the
    Checkout Session's `consent.terms_of_service` once the session completes ("" until then)."""

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="agreement_acceptance")
    agreement = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="acceptances")
    version = models.PositiveIntegerField()
    text_sha256 = models.CharField(max_length=64)
    accepted_at = models.DateTimeField()
    client_ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    email = models.EmailField(max_length=254)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    stripe_consent = models.CharField(max_length=32, blank=True)
    stripe_session_id = models.CharField(max_length=255, blank=True)
    stripe_consent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"v{self.version} accepted for order {self.order_id}"
