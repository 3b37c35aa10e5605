"""The REST API: one NinjaAPI, one router per app, one error format for everything."""

from ninja import NinjaAPI

from tradeline.core.errors import install_error_handlers

api = NinjaAPI(
    title="Tradeline Marketplace API",
    version="1.0.0",
    description=(
        "Broker catalog, checkout, orders, payouts and administration. Money is integer cents, "
        "with a `<name>_usd` decimal string beside it. Errors are "
        '`{"error": "...", "code": "UPPER_SNAKE", "details": ...}`.'
    ),
    openapi_url="/openapi.json",
    docs_url="/docs",
    urls_namespace="api",
)
install_error_handlers(api)


def _mount() -> None:
    from tradeline.agreements.api import router as agreements_router
    from tradeline.analytics.api import router as analytics_router
    from tradeline.chargebacks.api import router as chargebacks_router
    from tradeline.brokers.api import admin_router as brokers_admin_router
    from tradeline.brokers.api import auth_router
    from tradeline.brokers.api import router as brokers_router
    from tradeline.catalog.api import router as catalog_router
    from tradeline.fulfillment.api import router as fulfillment_router
    from tradeline.orders.api import admin_router as orders_admin_router
    from tradeline.orders.api import router as orders_router
    from tradeline.payments.api import admin_router as payments_admin_router
    from tradeline.payments.api import router as payments_router
    from tradeline.payouts.api import brokers_router as earnings_router
    from tradeline.payouts.api import router as payouts_router
    from tradeline.hooks.api import router as hooks_router
    from tradeline.reports.api import router as reports_router
    from tradeline.widget.api import router as widget_router

    api.add_router("/admin/auth", auth_router, tags=["admin auth"])
    api.add_router("/admin/brokers", brokers_admin_router, tags=["admin brokers"])
    api.add_router("/admin/orders", orders_admin_router, tags=["admin orders"])
    api.add_router("/admin/orders", payments_admin_router, tags=["admin orders"])  # direct sales (checkout)
    api.add_router("/brokers", brokers_router, tags=["brokers"])
    api.add_router("/public", catalog_router, tags=["catalog"])
    api.add_router("/public", agreements_router, tags=["agreement"])
    api.add_router("/public", widget_router, tags=["widget"])  # /public/config
    api.add_router("/orders", orders_router, tags=["orders"])
    api.add_router("/orders", payments_router, tags=["payments"])  # checkout, cancel, webhook, refunds, manual payments
    api.add_router("/orders", fulfillment_router, tags=["payments"])  # retry-fulfillment
    api.add_router("/orders", chargebacks_router, tags=["payments"])  # dispute evidence
    api.add_router("/payouts", payouts_router, tags=["payouts"])
    api.add_router("/brokers", earnings_router, tags=["payouts"])  # /brokers/me/earnings
    api.add_router("/analytics", analytics_router, tags=["analytics"])
    api.add_router("/reports", reports_router, tags=["reports"])
    api.add_router("/brokers", hooks_router, tags=["broker webhooks"])  # /brokers/me/webhooks


_mount()
