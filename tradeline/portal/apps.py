from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tradeline.portal"
    label = "portal"
