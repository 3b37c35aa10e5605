"""Public catalog API: the broker's price list (customer prices only)."""

from django.http import HttpRequest, HttpResponse
from ninja import Router

from tradeline.brokers.auth import BrokerKeyAuth, public_key_rate_limit
from tradeline.catalog.schemas import ErrorOut, PricingOut
from tradeline.catalog.selectors import broker_pricing_json

router = Router()


@router.get(
    "/pricing",
    auth=[BrokerKeyAuth(publishable_ok=True)],
    response={200: PricingOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut, 503: ErrorOut},
    summary="The broker's tradeline catalog with customer prices",
    description="Customer unit prices (`customer_price` cents, `customer_price_usd`) for every available "
                "tradeline; `stale` is true when the supplier could not be reached recently. Never reveals "
                "base prices, revenue share or supplier cost.",
)
def public_pricing(request: HttpRequest):
    public_key_rate_limit(request, scope="catalog")
    body = broker_pricing_json(broker=request.broker)
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = "private, max-age=30"
    return response
