from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "tradeline.payouts"
    label = "payouts"

    def ready(self):
        # Connect's account.updated arrives at payments' webhook endpoint (core/stripe_events.py).
        from tradeline.core import stripe_events
        from tradeline.payouts.services.connect import on_account_updated

        stripe_events.register("account.updated", on_account_updated)
