from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "tradeline.agreements"
    label = "agreements"
    verbose_name = "Customer agreement"
