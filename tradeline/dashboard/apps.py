from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "tradeline.dashboard"
    label = "dashboard"

    def ready(self):
        # After the admin's autodiscovery: adds the second factor to admin.site's login.
        from django.contrib import admin

        from tradeline.dashboard.admin_twofactor import install

        install(admin.site)
