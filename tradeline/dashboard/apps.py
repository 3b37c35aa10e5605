from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "tradeline.dashboard"
    label = "dashboard"
