from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tradeline.audit"
    label = "audit"
