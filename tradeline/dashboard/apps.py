from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "tradeline.dashboard"
    label = "dashboard"

    def ready(self):
        # After the admin's autodiscovery: the second factor in admin.site's login, the Reports page.
        from django.contrib import admin

        from tradeline.dashboard import admin_reports, admin_twofactor

        admin_twofactor.install(admin.site)
        admin_reports.install(admin.site)
