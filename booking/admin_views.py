"""Staff booking a caller and moving a booking, in the admin."""


def book_caller_view(model_admin, request):
    raise NotImplementedError


def move_view(model_admin, request, object_id):
    raise NotImplementedError
