from django.urls import path

from tradeline.portal import account, payouts_views, theme, views, webhooks

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("orders/", views.orders, name="orders"),
    path("orders/<str:order_id>/", views.order_detail, name="order"),
    path("payouts/", views.payouts, name="payouts"),
    path("payouts/<str:payout_id>/", views.payout_detail, name="payout"),
    path("payouts/<str:payout_id>/report.csv", views.payout_csv, name="payout-csv"),
    path("get-paid/", payouts_views.get_paid, name="get-paid"),
    path("get-paid/start", payouts_views.get_paid_start, name="get-paid-start"),
    path("get-paid/refresh", payouts_views.get_paid_refresh, name="get-paid-refresh"),
    path("get-paid/return", payouts_views.get_paid_return, name="get-paid-return"),
    path("tax/", payouts_views.tax_details, name="tax"),
    path("statement/", payouts_views.statement, name="statement"),
    path("statement/<int:year>.csv", payouts_views.statement_csv, name="statement-csv"),
    path("settings/", views.markup_settings, name="settings"),
    path("settings/preview", views.markup_preview, name="settings-preview"),
    path("keys/", views.api_keys, name="keys"),
    path("embed/", views.embed, name="embed"),
    path("forgot/", account.forgot_password, name="forgot"),
    path("reset/<str:uidb64>/<str:token>/", account.reset_password, name="reset"),
    path("profile/", account.profile, name="profile"),
    path("email/confirm/<str:token>/", account.confirm_email, name="confirm-email"),
    path("webhooks/", webhooks.webhooks, name="webhooks"),
    path("webhooks/<str:endpoint_id>/<str:action>", webhooks.endpoint_action, name="webhook-action"),
    path("webhooks/deliveries/<str:delivery_id>/resend", webhooks.delivery_resend, name="webhook-resend"),
    path("theme/", theme.theme, name="theme"),
]
