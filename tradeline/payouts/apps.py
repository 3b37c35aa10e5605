from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "tradeline.payouts"
    label = "payouts"
