"""Shared pytest setup. Fixtures live in tradeline/testing/ (one place), loaded as plugins here."""

pytest_plugins = [
    "tradeline.testing.fixtures",
    "tradeline.testing.supplier",
    "tradeline.testing.stripe",
    "tradeline.testing.broker_receiver",
    "tradeline.testing.celery",
]
