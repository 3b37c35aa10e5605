from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "tradeline.evidence"
    label = "evidence"
    verbose_name = "Customer evidence"
