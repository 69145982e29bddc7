from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .models import ContentBlock


def clinic(request):
    """
    What every page's frame needs: the clinic's details, its canonical
    address and the shared blocks of copy (call to action, disclaimer).

    The blocks load lazily in one query, so pages that do not show them
    (the admin) pay nothing.
    """
    return {
        "clinic": settings.CLINIC,
        "canonical_url": settings.SITE_URL + request.path,
        "site_url": settings.SITE_URL,
        "blocks": SimpleLazyObject(
            lambda: {block.key: block for block in ContentBlock.objects.all()}
        ),
    }
