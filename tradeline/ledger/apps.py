from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """Reconciliation: reads every money record and reports disagreements; nothing imports it."""

    name = "tradeline.ledger"
    label = "ledger"
