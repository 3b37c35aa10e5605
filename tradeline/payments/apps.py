from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "tradeline.payments"
    label = "payments"
