import sys

from axes.helpers import get_cool_off
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views import static

from .middleware import database_unavailable_response, is_database_outage


def csrf_failure(request, reason=""):
    """The site's own page for a form sent without a valid CSRF token (e.g. an old tab)."""
    return render(request, "403_csrf.html", status=403)


def staff_sign_in_locked_out(request, original_response=None, credentials=None):
    """
    django-axes' answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): its
    page, with Retry-After set to the whole cool-off, the longest the wait
    can be.
    """
    response = render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
    cool_off = get_cool_off(request)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


def healthz(request):
    """
    For load balancers: 200 when the database and the cache answer, 503 when
    either does not. Says which, and nothing else.
    """
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    try:
        cache.set("healthz", "ok", timeout=5)
        checks["cache"] = "ok" if cache.get("healthz") == "ok" else "unavailable"
    except Exception:
        checks["cache"] = "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    response = JsonResponse(checks, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


def framework_floor(request):
    """
    The benchmark's baseline: Django's own cost for a request, with no
    database, template or cache. Routed only when BENCHMARK_FLOOR_VIEW is on.
    """
    return HttpResponse(b"ok", content_type="text/plain")


def server_error(request):
    """
    The 500 handler. A database outage can also surface after the view, in
    a middleware (saving the session), where DatabaseUnavailableMiddleware
    does not see it: it still gets the 503 page rather than a 500.
    """
    if is_database_outage(sys.exc_info()[1]):
        return database_unavailable_response()
    return HttpResponseServerError(render_to_string("500.html"))


def bad_request(request, exception):
    """
    The 400 handler. When the database goes away while Django saves an
    existing session, it reports a "session interrupted" 400; the cause is
    an outage, so the visitor gets the 503 page that tells them to retry.
    """
    cause = exception
    while cause is not None:
        if is_database_outage(cause):
            return database_unavailable_response()
        cause = cause.__cause__ or cause.__context__
    return HttpResponseBadRequest(render_to_string("400.html"))


# What /media/ may hand out: the photographs' originals and renditions, never
# anything a browser would run (an SVG or HTML file that found its way into
# the folder is a 404, like any other name).
MEDIA_TYPES = {".jpg": "image/jpeg", ".webp": "image/webp", ".avif": "image/avif"}


def media(request, path):
    """
    Photographs under `make run` and `make audit`, where no nginx stands in
    front (production's nginx serves /media/ from disk with the same rules:
    deploy/nginx/clinic-app.conf). Names never change once written (a new
    upload gets a new name), so browsers keep them for a year.
    """
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if not path.startswith("photographs/") or suffix not in MEDIA_TYPES:
        raise Http404
    response = static.serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Content-Type"] = MEDIA_TYPES[suffix]
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    # An image opened on its own runs nothing and embeds nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
