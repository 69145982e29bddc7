from django.shortcuts import render


def csrf_failure(request, reason=""):
    """The site's own page for a form sent without a valid CSRF token (e.g. an old tab)."""
    return render(request, "403_csrf.html", status=403)
