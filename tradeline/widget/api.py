"""Widget configuration API: what a broker's widget looks like and where Checkout returns."""

from django.http import HttpRequest
from ninja import Router, Schema

from tradeline.brokers.auth import BrokerKeyAuth, public_key_rate_limit
from tradeline.widget.selectors import widget_config

router = Router()


class ConfigBrokerOut(Schema):
    id: str
    public_name: str


class ConfigThemeOut(Schema):
    title: str
    primary_color: str
    text_color: str
    background_color: str
    font_family: str
    corner_radius: int
    columns: int
    default_sort: str


class ConfigReturnUrlsOut(Schema):
    success_url: str
    cancel_url: str


class ConfigOut(Schema):
    broker: ConfigBrokerOut
    theme: ConfigThemeOut
    return_urls: ConfigReturnUrlsOut


@router.get(
    "/config",
    auth=[BrokerKeyAuth(publishable_ok=True)],
    response={200: ConfigOut},
    summary="The broker's widget configuration (publishable key)",
    description="Public name, theme (colours `#rrggbb`, font family, corner radius in px, columns — 0 means as "
                "many as fit —, default sort, title) with defaults filled in, and the return URLs the broker set for "
                "Stripe Checkout (blank: after payment the broker's website `/success`, after a cancel the page "
                "the widget is on).",
)
def public_config(request: HttpRequest):
    public_key_rate_limit(request, scope="catalog")
    return widget_config(broker=request.broker)
