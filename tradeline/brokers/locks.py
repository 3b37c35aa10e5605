"""The broker row lock: one helper, used by every service that changes a broker or its keys."""

from django.core.exceptions import ValidationError as DjangoValidationError

from tradeline.brokers.models import Broker
from tradeline.core.errors import NotFound
from tradeline.core.locks import lock_one


def broker_lock(broker_id) -> Broker:
    """The broker, locked FOR UPDATE (inside the caller's transaction); 404 BROKER_NOT_FOUND if none."""
    try:
        return lock_one(Broker, pk=broker_id)
    except (Broker.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound("No such broker.", code="BROKER_NOT_FOUND") from None
