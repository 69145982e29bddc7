from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView, TemplateView

from .caching import CachedPageMixin, answers_key
from .forms import FacialGuideForm
from .guide import recommend
from .models import FAQ, ComparisonAspect, DecisionFactor, SitePage, Treatment


class SitePageMixin:
    """Puts the page's editable copy (title, description, heading) in the context."""

    page_key = None

    def get_context_data(self, **kwargs):
        page = get_object_or_404(SitePage.objects.select_related("photograph"), key=self.page_key)
        kwargs.setdefault("page", page)
        kwargs.setdefault("meta_title", page.title)
        kwargs.setdefault("meta_description", page.meta_description)
        return super().get_context_data(**kwargs)


class HomeView(CachedPageMixin, SitePageMixin, ListView):
    page_key = SitePage.Key.HOME
    teaser_rows = 3
    template_name = "treatments/home.html"
    context_object_name = "treatments"

    def get_queryset(self):
        return Treatment.objects.published().select_related("photograph")

    def get_context_data(self, **kwargs):
        # The comparison's first rows as a teaser (the whole table is /compare/).
        treatments = list(self.object_list)
        aspects = ComparisonAspect.objects.prefetch_related("values")[: self.teaser_rows]
        kwargs["teaser_rows"] = [
            (aspect, [(t, aspect.value_for(t)) for t in treatments]) for aspect in aspects
        ]
        return super().get_context_data(**kwargs)


class TreatmentListView(CachedPageMixin, SitePageMixin, ListView):
    page_key = SitePage.Key.TREATMENTS
    template_name = "treatments/treatment_list.html"
    context_object_name = "treatments"

    def get_queryset(self):
        return Treatment.objects.published().select_related("photograph")


class TreatmentDetailView(CachedPageMixin, DetailView):
    template_name = "treatments/treatment_detail.html"
    context_object_name = "treatment"

    def get_queryset(self):
        return Treatment.objects.published().with_points().select_related("photograph")

    def get_context_data(self, **kwargs):
        kwargs["faqs"] = FAQ.objects.published().filter(treatment=self.object)
        kwargs["meta_title"] = self.object.name
        kwargs["meta_description"] = self.object.meta_description
        return super().get_context_data(**kwargs)


class ComparisonView(CachedPageMixin, SitePageMixin, TemplateView):
    page_key = SitePage.Key.COMPARISON
    template_name = "treatments/comparison.html"

    def get_context_data(self, **kwargs):
        treatments = list(Treatment.objects.published())
        aspects = ComparisonAspect.objects.prefetch_related("values")
        kwargs["treatments"] = treatments
        kwargs["rows"] = [(aspect, [aspect.value_for(t) for t in treatments]) for aspect in aspects]
        return super().get_context_data(**kwargs)


class FAQListView(CachedPageMixin, SitePageMixin, ListView):
    page_key = SitePage.Key.FAQS
    template_name = "treatments/faq_list.html"
    context_object_name = "faqs"

    def get_queryset(self):
        return FAQ.objects.published()


class GuideView(CachedPageMixin, SitePageMixin, TemplateView):
    """
    The guide is a question, not a change to anything, so it is a GET form:
    the result has its own address and works without JavaScript. A result is
    cached like a content page, under its answers (in any order, repeated or
    not, whatever else the query string holds); answers the form refuses
    are shown with their errors and never cached.
    """

    page_key = SitePage.Key.GUIDE
    template_name = "treatments/guide.html"

    @classmethod
    def page_cache_key(cls, request):
        if not request.GET:
            return super().page_cache_key(request)
        return answers_key(request, FacialGuideForm.ANSWERS, many=FacialGuideForm.MANY_ANSWERS)

    def get_context_data(self, **kwargs):
        submitted = bool(self.request.GET)
        form = FacialGuideForm(self.request.GET if submitted else None)
        if submitted:
            self.page_cacheable = form.is_valid()
        if submitted and form.is_valid():
            recommendation = recommend(**form.cleaned_data)
            kwargs["recommendation"] = recommendation
            if recommendation.treatment:
                kwargs["meta_title"] = f"Your suggestion: {recommendation.treatment.name}"
            else:
                kwargs["meta_title"] = "Your suggestion"
        kwargs["form"] = form
        kwargs["factors"] = DecisionFactor.objects.all()
        return super().get_context_data(**kwargs)
