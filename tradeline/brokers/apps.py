from django.apps import AppConfig


class BrokersConfig(AppConfig):
    name = "tradeline.brokers"
    label = "brokers"
