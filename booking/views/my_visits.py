"""
"My visits": a returning client's own page, signed in by an emailed link
(booking/views/client_session.py keeps the sign-in). The page lists every
visit of the address; what it does to a visit is the manage link's own
services, with the status and time the client saw.

Every page here is one client's own: never_cache (private, no-store), and
each write is a POST from the page's own buttons.
"""

import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import FormView, TemplateView

from booking.forms.my_visits import SignInRequestForm
from booking.models import (
    BookingRules,
    ConsultationBooking,
    ErasureRequest,
    MarketingChoice,
    WaitlistEntry,
)
from booking.ratelimit import client_ip, count_exceeded
from booking.services import my_visits
from booking.services.client_data import client_data
from booking.services.screening import answers_as_seen
from booking.signed_links import LinkInvalid, email_from_unsubscribe_token
from booking.validators import normalise_client_email

from .client_session import ClientSignInRequired, sign_in, sign_out, signed_in_email

Status = ConsultationBooking.Status


def too_many_requests(request):
    response = render(request, "booking/my_visits/too_many.html", status=429)
    # The whole period: the longest the visitor can have to wait.
    response["Retry-After"] = str(settings.MY_VISITS_RATE_WINDOW_SECONDS)
    return response


@method_decorator(never_cache, name="dispatch")
class MyVisitsView(TemplateView):
    """The client's page when this browser is signed in; the form asking for an address when not."""

    template_name = "booking/my_visits/page.html"

    def get(self, request, *args, **kwargs):
        self.client_email = signed_in_email(request)
        if self.client_email is None:
            return render(
                request,
                "booking/my_visits/sign_in.html",
                {"form": SignInRequestForm(), "meta_title": "My visits"},
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        now = timezone.now()
        rules = BookingRules.current()
        visits = list(
            ConsultationBooking.objects.of_client(self.client_email)
            .select_related("consultation_type", "practitioner", "screening__version")
            .order_by("starts_at", "pk")
        )
        upcoming = [visit for visit in visits if visit.is_active and visit.ends_at >= now]
        for visit in upcoming:
            visit.may_change = visit.client_may_change(rules, now)
            visit.change_deadline = visit.client_change_deadline(rules)
            visit.may_confirm_attendance = (
                visit.status in {Status.REQUESTED, Status.CONFIRMED} and visit.starts_at > now
            )
        earlier = [visit for visit in reversed(visits) if visit not in upcoming]
        health_forms = [
            (visit, answers_as_seen(visit.screening))
            for visit in visits
            if getattr(visit, "screening", None) is not None
        ]
        latest = max(visits, key=lambda visit: visit.created_at, default=None)
        kwargs.update(
            meta_title="My visits",
            client_email=self.client_email,
            upcoming=upcoming,
            earlier=earlier,
            health_forms=health_forms,
            waiting=WaitlistEntry.objects.waiting()
            .filter(email__iexact=self.client_email)
            .select_related("consultation_type", "practitioner"),
            marketing_emails=bool(latest and latest.marketing_opt_in),
            erasure_request=ErasureRequest.objects.filter(
                email=self.client_email, status=ErasureRequest.Status.WAITING
            ).first(),
            erasure_days=rules.erasure_days,
            medical_record_years=rules.medical_record_years,
        )
        return super().get_context_data(**kwargs)


@method_decorator(never_cache, name="dispatch")
class RequestSignInLinkView(FormView):
    """
    The address to email a link to. Every valid address gets the same answer
    after the same work (one task row; the worker decides whether to send),
    so the page says nothing about who is a client.
    """

    template_name = "booking/my_visits/sign_in.html"
    form_class = SignInRequestForm

    def get_context_data(self, **kwargs):
        kwargs.setdefault("meta_title", "My visits")
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        email = normalise_client_email(form.cleaned_data["email"])
        window = settings.MY_VISITS_RATE_WINDOW_SECONDS
        # Both counters are counted every time, so a refusal costs what a send costs.
        over_for_ip = count_exceeded(
            f"my_visits_ip:{client_ip(self.request)}",
            limit=settings.MY_VISITS_LINKS_PER_IP,
            period_seconds=window,
        )
        over_for_address = count_exceeded(
            f"my_visits_address:{my_visits.hash_for_counting(email)}",
            limit=settings.MY_VISITS_LINKS_PER_ADDRESS,
            period_seconds=window,
        )
        if over_for_ip or over_for_address:
            return too_many_requests(self.request)
        my_visits.request_sign_in_link(email=email)
        return redirect("booking:my_visits_link_sent")


@method_decorator(never_cache, name="dispatch")
class SignInLinkSentView(TemplateView):
    template_name = "booking/my_visits/link_sent.html"
    extra_context = {"meta_title": "Check your email"}


@method_decorator(never_cache, name="dispatch")
class UseSignInLinkView(TemplateView):
    """
    The emailed link. A GET only shows a "Sign in" button (mail scanners
    open links, and would use up a single-use link); the POST signs in.
    """

    template_name = "booking/my_visits/use_link.html"

    def refused(self, reason):
        status = {"unknown": 404, "used": 410, "expired": 410}[reason]
        return render(
            self.request,
            "booking/my_visits/link_refused.html",
            {
                "reason": reason,
                "form": SignInRequestForm(),
                "meta_title": "This link does not work",
            },
            status=status,
        )

    def get(self, request, *args, **kwargs):
        try:
            my_visits.check_sign_in_link(kwargs["token"])
        except my_visits.LinkRefused as refusal:
            return self.refused(refusal.reason)
        return super().get(request, *args, meta_title="Sign in to My visits", **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            email = my_visits.use_sign_in_link(token=kwargs["token"])
        except my_visits.LinkRefused as refusal:
            return self.refused(refusal.reason)
        sign_in(request, email)
        return redirect("booking:my_visits")


class SignOutView(View):
    def post(self, request):
        sign_out(request)
        messages.success(request, "You are signed out of My visits.")
        return redirect("booking:my_visits")


class MarketingPreferenceView(ClientSignInRequired, View):
    def post(self, request):
        wanted = request.POST.get("marketing_emails") == "on"
        my_visits.set_marketing_emails(email=self.client_email, wanted=wanted)
        messages.success(
            request,
            "You will get our occasional news and offers."
            if wanted
            else "You will get no more news or offers. Emails about your visits still come.",
        )
        return redirect(reverse("booking:my_visits") + "#preferences")


@method_decorator(never_cache, name="dispatch")
class DownloadMyDataView(ClientSignInRequired, View):
    def get(self, request):
        data = client_data(self.client_email)
        response = HttpResponse(
            json.dumps(data, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        filename = (
            f"my-data-{slugify(settings.CLINIC['name'])}-{timezone.localdate():%Y-%m-%d}.json"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class DeleteMyDataView(ClientSignInRequired, View):
    def post(self, request):
        erasure_request, _ = my_visits.request_erasure(email=self.client_email)
        messages.success(
            request,
            "We have your request to delete your data. We will carry it out by "
            f"{erasure_request.due_by:%-d %B %Y}.",
        )
        return redirect(reverse("booking:my_visits") + "#your-data")


@method_decorator(never_cache, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(TemplateView):
    """
    A marketing email's unsubscribe link: the GET shows a button, the POST
    unsubscribes. RFC 8058's one-click POST comes from the mail provider, with
    no cookie and no CSRF token; the signed address in the link is what
    authorises it, so the view is exempt from CSRF (it can only turn
    marketing off, for the address it names).
    """

    template_name = "booking/my_visits/unsubscribe.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            self.email = email_from_unsubscribe_token(kwargs["token"])
        except LinkInvalid:
            raise Http404 from None
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("meta_title", "Unsubscribe")
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        my_visits.set_marketing_emails(
            email=self.email, wanted=False, source=MarketingChoice.Source.UNSUBSCRIBE
        )
        return self.render_to_response(self.get_context_data(done=True))
