"""GET /api/public/agreement — the current Tradeline User Agreement (broker publishable or secret key)."""

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from ninja import Router

from tradeline.agreements.schemas import AgreementOut, ErrorOut
from tradeline.agreements.selectors import agreement_current, agreement_out
from tradeline.brokers import keys
from tradeline.brokers.auth import BrokerKeyAuth
from tradeline.core import ratelimit
from tradeline.core.errors import NotFound

router = Router()


@router.get("/agreement", auth=[BrokerKeyAuth(publishable_ok=True)],
            response={200: AgreementOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut},
            summary="The current Tradeline User Agreement (version, title, text, SHA-256, page URL)",
            description="Checkout requires `agreement_version` (this `version`) and `agreement_accepted: true`.")
def public_agreement(request: HttpRequest):
    ratelimit.enforce(request, scope="catalog", rule=settings.RATE_LIMIT_CATALOG,
                      identity=keys.split_prefix(request.headers.get("x-api-key", "").strip()))
    row = agreement_current()
    if row is None:
        raise NotFound("No agreement has been published.", code="AGREEMENT_NOT_PUBLISHED")
    return {**agreement_out(row), "url": settings.PUBLIC_BASE_URL + reverse("agreements:version", args=[row.version])}
