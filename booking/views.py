from django.views.generic import TemplateView

from treatments.models import SitePage, Treatment
from treatments.views import SitePageMixin


class PrivacyPolicyView(SitePageMixin, TemplateView):
    page_key = SitePage.Key.PRIVACY
    template_name = "booking/privacy.html"


class BookConsultationView(SitePageMixin, TemplateView):
    page_key = SitePage.Key.BOOKING
    template_name = "booking/book.html"

    def get_context_data(self, **kwargs):
        slug = self.request.GET.get("treatment", "")
        kwargs["treatment"] = (
            Treatment.objects.published().filter(slug=slug).first() if slug else None
        )
        return super().get_context_data(**kwargs)
