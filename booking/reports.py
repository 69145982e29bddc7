"""The bookings report: counts and rates for a period, computed by the database."""


def report_view(model_admin, request):
    raise NotImplementedError
