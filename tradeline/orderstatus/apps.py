from django.apps import AppConfig


class OrderStatusConfig(AppConfig):
    name = "tradeline.orderstatus"
    label = "orderstatus"
    verbose_name = "Customer order-status page"
