from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.generic import TemplateView

from treatments.sitemaps import sitemaps

from . import views

admin.site.site_header = f"{settings.CLINIC['name']} — staff"
admin.site.site_title = f"{settings.CLINIC['name']} staff"
admin.site.index_title = "Bookings and site content"

handler400 = "clinic_site.views.bad_request"
handler500 = "clinic_site.views.server_error"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # The staff member's two-factor pages, inside the admin's address.
    path(f"{settings.ADMIN_URL}two-factor/", include("staff_access.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": sitemaps},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain"),
        name="robots_txt",
    ),
    *(
        [path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", views.media, name="media")]
        if settings.SERVE_MEDIA
        else []
    ),
    path("", include("booking.urls")),
    *(
        [path("_floor", views.framework_floor, name="framework_floor")]
        if settings.BENCHMARK_FLOOR_VIEW
        else []
    ),
    path("", include("treatments.urls")),
]
