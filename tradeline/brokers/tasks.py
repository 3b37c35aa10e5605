"""Broker email tasks (queue "email")."""

from django_tasks import task

from tradeline.brokers import emails
from tradeline.brokers.models import Broker
from tradeline.brokers.tokens import password_reset_link


@task(queue_name="email")
def send_password_reset_email(broker_id: str) -> bool:
    """Make a fresh link and send it. An empty id (unknown email) sends nothing: the request that
    enqueued it did the same work as for a known email."""
    broker = Broker.objects.filter(pk=broker_id).first() if broker_id else None
    if broker is None:
        return False
    return emails.send_password_reset(broker=broker, link=password_reset_link(broker))
