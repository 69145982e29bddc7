from django.urls import path

from . import views

app_name = "booking"

urlpatterns = [
    path("book/", views.BookConsultationView.as_view(), name="book"),
    path("book/received/<str:reference>/", views.BookingReceivedView.as_view(), name="received"),
    path("book/manage/<str:token>/", views.ManageBookingView.as_view(), name="manage"),
    path("privacy/", views.PrivacyPolicyView.as_view(), name="privacy"),
    path("team/", views.TeamView.as_view(), name="team"),
]
