from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "tradeline.widget"
    label = "widget"
