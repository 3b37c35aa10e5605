"""Broker.clean_values / Broker.clean: the field shapes live on the model, not in the services."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError

from tradeline.brokers.models import Broker
from tradeline.core.errors import ValidationFailed


def test_clean_values_normalises_the_given_fields_only():
    clean = Broker.clean_values({"email": "  Shop@Example.COM ", "markup_percent": "12.5",
                                 "allowed_origins": ["https://shop.example.com/", "https://shop.example.com"]})
    assert clean == {"email": "shop@example.com", "markup_percent": Decimal("12.5"),
                     "allowed_origins": ["https://shop.example.com"]}


def test_clean_values_names_the_bad_field():
    with pytest.raises(ValidationFailed) as caught:
        Broker.clean_values({"name": "ok", "markup_fixed": -1})
    assert (caught.value.code, caught.value.details[0]["field"]) == ("MARKUP_OUT_OF_RANGE", "markup_fixed")


def test_model_clean_reports_a_django_validation_error_on_the_field():
    broker = Broker(name="Shop", email="shop@example.com", allowed_origins=["https://shop.example.com/path"])
    with pytest.raises(DjangoValidationError) as caught:
        broker.clean()
    assert list(caught.value.message_dict) == ["allowed_origins"]
    assert broker.allowed_origins == ["https://shop.example.com/path"]  # nothing half-applied


def test_model_clean_normalises_a_valid_instance():
    broker = Broker(name=" Shop ", email="Shop@Example.com", website="https://shop.example.com/")
    broker.clean()
    assert (broker.name, broker.email, broker.website) == ("Shop", "shop@example.com", "https://shop.example.com/")
