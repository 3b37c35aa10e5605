from django.apps import AppConfig


class ChargebacksConfig(AppConfig):
    name = "tradeline.chargebacks"
    label = "chargebacks"
    verbose_name = "Chargeback evidence"
