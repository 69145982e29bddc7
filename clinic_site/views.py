from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render


def csrf_failure(request, reason=""):
    """The site's own page for a form sent without a valid CSRF token (e.g. an old tab)."""
    return render(request, "403_csrf.html", status=403)


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
