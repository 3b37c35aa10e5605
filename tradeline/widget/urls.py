from django.urls import path

from tradeline.widget import views

app_name = "widget"

urlpatterns = [
    path("widget.js", views.widget_js, name="widget-js"),
    path("demo/", views.demo_page, name="demo"),
    path("demo/success", views.demo_success, name="demo-success"),
    path("demo/cart", views.demo_cart, name="demo-cart"),
    path("checkout/success", views.checkout_success, name="checkout-success"),
    path("checkout/cancel", views.checkout_cancel, name="checkout-cancel"),
]
