from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tradeline.core"
    label = "core"
