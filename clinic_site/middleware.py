import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


NUL = "\x00"


class RefuseNulMiddleware:
    """
    Refuse a request holding a NUL character before anything reads it: in
    its query string, cookies or headers with the site's 400 page, in its
    path with the 404 page (no page's address holds one).

    PostgreSQL refuses any query carrying a NUL (DataError), so a session
    cookie, an admin list filter or a user agent django-axes records would
    each be a 500 with a traceback. No browser sends one, and every view and
    filter would otherwise need its own guard. Form fields are left to the
    forms, which refuse control characters with a message.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path:
            raise Http404("No page's address holds a NUL character.")
        if holds_nul(request):
            return HttpResponseBadRequest(render_to_string("400.html"))
        return self.get_response(request)


def holds_nul(request):
    """Whether the query string, a cookie or a header holds a NUL."""
    # The raw query string: percent-decoding makes a NUL only from %00.
    query = request.META.get("QUERY_STRING", "")
    if NUL in query or "%00" in query:
        return True
    # Parsed cookies: a quoted value's octal escape (\000) becomes a NUL.
    if any(NUL in name or NUL in value for name, value in request.COOKIES.items()):
        return True
    return any(
        NUL in value
        for key, value in request.META.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    )


class SecurityHeadersMiddleware:
    """Headers Django has no setting for: who may embed our resources, which browser features pages may use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class DatabaseUnavailableMiddleware:
    """
    When the database cannot be reached, answer 503 with the site's own page
    (which needs no database) instead of a 500, so load balancers and people
    know to come back shortly. A booking is written in one transaction, so
    a failure mid-way leaves no partial booking behind.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_outage(exception):
            return database_unavailable_response()
        return None


def is_database_outage(exception):
    return isinstance(exception, (OperationalError, InterfaceError)) or (
        isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
    )


def database_unavailable_response():
    logger.error("Database unavailable")
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "30"
    return response
