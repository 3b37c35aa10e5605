from django.urls import path

from tradeline.agreements import views

app_name = "agreements"

urlpatterns = [
    path("agreement", views.agreement_page, name="current"),
    path("agreement/v<int:version>", views.agreement_page, name="version"),
]
