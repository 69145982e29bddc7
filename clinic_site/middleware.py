import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


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
