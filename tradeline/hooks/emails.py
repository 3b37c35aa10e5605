"""The broker's email when one of its webhook endpoints is disabled."""

from tradeline.core.mail import send_templated_email
from tradeline.hooks.models import WebhookEndpoint


def send_endpoint_disabled(*, endpoint: WebhookEndpoint) -> bool:
    return send_templated_email("webhook_endpoint_disabled", to=[endpoint.broker.email],
                                context={"endpoint": endpoint, "broker": endpoint.broker})
