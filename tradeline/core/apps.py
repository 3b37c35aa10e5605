from corsheaders.signals import check_request_enabled
from django.apps import AppConfig

from tradeline.core.cors import cors_request_allowed


class CoreConfig(AppConfig):
    name = "tradeline.core"
    label = "core"

    def ready(self) -> None:
        # django-cors-headers' documented hook for a per-request origin decision (see core/cors.py).
        check_request_enabled.connect(cors_request_allowed, dispatch_uid="tradeline-cors")
