from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "tradeline.analytics"
    label = "analytics"
