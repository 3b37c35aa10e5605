from django.contrib import admin
from django.urls import include, path, re_path

from config.api import api
from tradeline.core.views import api_not_found, health

urlpatterns = [
    path("health", health, name="health"),
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),
    path("admin/outbox/", include("tradeline.dashboard.outbox")),  # development only (404 elsewhere)
    path("admin/", admin.site.urls),
    path("portal/", include("tradeline.portal.urls")),
    path("", include("tradeline.agreements.urls")),
    path("", include("tradeline.orderstatus.urls")),
    path("", include("tradeline.widget.urls")),
    path("", include("tradeline.dashboard.urls")),
]
