"""The front desk's day sheet: one clinic day, a column per practitioner."""


def day_sheet_view(model_admin, request):
    raise NotImplementedError


def act_view(model_admin, request):
    raise NotImplementedError
