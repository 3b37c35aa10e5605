from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "tradeline.fulfillment"
    label = "fulfillment"
