from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "tradeline.catalog"
    label = "catalog"
