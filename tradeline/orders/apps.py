from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "tradeline.orders"
    label = "orders"
