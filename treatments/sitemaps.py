from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap

from .models import SitePage, Treatment


class ClinicSitemap(Sitemap):
    """
    Uses the configured SITE_URL rather than the request's Host header, so
    the sitemap names the clinic's real address however it was reached.
    """

    def get_urls(self, page=1, site=None, protocol=None):
        origin = urlsplit(settings.SITE_URL)
        return self._urls(page, origin.scheme, origin.netloc)

    def lastmod(self, item):
        return item.updated_at


class SitePageSitemap(ClinicSitemap):
    def items(self):
        return SitePage.objects.all()

    def location(self, item):
        return item.get_absolute_url()


class TreatmentSitemap(ClinicSitemap):
    def items(self):
        return Treatment.objects.published()


sitemaps = {"pages": SitePageSitemap, "treatments": TreatmentSitemap}
