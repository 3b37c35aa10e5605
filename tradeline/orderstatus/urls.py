from django.urls import path

from tradeline.orderstatus import views

app_name = "orderstatus"

urlpatterns = [
    path("status/<str:order_id>/<str:token>", views.order_status_page, name="page"),
]
