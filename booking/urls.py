from django.urls import path

from .views import bookings as views
from .views import waitlist as waitlist_views

app_name = "booking"

urlpatterns = [
    path("book/", views.BookConsultationView.as_view(), name="book"),
    path("book/received/<str:reference>/", views.BookingReceivedView.as_view(), name="received"),
    path("book/manage/<str:token>/", views.ManageBookingView.as_view(), name="manage"),
    path("waitlist/", waitlist_views.JoinWaitlistView.as_view(), name="waitlist_join"),
    path("waitlist/joined/", waitlist_views.WaitlistJoinedView.as_view(), name="waitlist_joined"),
    path(
        "waitlist/leave/<str:token>/",
        waitlist_views.LeaveWaitlistView.as_view(),
        name="waitlist_leave",
    ),
    path(
        "waitlist/offer/<str:token>/",
        waitlist_views.ClaimOfferView.as_view(),
        name="waitlist_offer",
    ),
    path("privacy/", views.PrivacyPolicyView.as_view(), name="privacy"),
    path("team/", views.TeamView.as_view(), name="team"),
]
