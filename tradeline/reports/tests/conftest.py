from tradeline.brokers.tests.conftest import admin_headers, keyed_broker  # noqa: F401 - shared fixtures
