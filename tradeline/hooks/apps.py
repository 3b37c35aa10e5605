from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "tradeline.hooks"
    label = "hooks"
    verbose_name = "Webhooks to brokers"
