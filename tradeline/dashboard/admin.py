"""Site-wide settings of the admin (the customized index lives in templates/admin/index.html)."""

from django.contrib import admin

admin.site.site_header = "Tradeline Marketplace"
admin.site.site_title = "Tradeline admin"
admin.site.index_title = "Overview"
admin.site.enable_nav_sidebar = False
