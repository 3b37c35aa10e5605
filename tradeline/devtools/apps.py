from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    name = "tradeline.devtools"
    label = "devtools"
