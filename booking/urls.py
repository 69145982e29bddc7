from django.urls import include, path

from .views import bookings as views
from .views import my_visits as my_visits_views
from .views import my_visits_changes as visit_views
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
    # A client's own page and what they do from it (booking/views/my_visits*.py).
    path(
        "my-visits/",
        include(
            [
                path("", my_visits_views.MyVisitsView.as_view(), name="my_visits"),
                path(
                    "sign-in/",
                    my_visits_views.RequestSignInLinkView.as_view(),
                    name="my_visits_sign_in",
                ),
                path(
                    "link-sent/",
                    my_visits_views.SignInLinkSentView.as_view(),
                    name="my_visits_link_sent",
                ),
                path(
                    "link/<str:token>/",
                    my_visits_views.UseSignInLinkView.as_view(),
                    name="my_visits_link",
                ),
                path("sign-out/", my_visits_views.SignOutView.as_view(), name="my_visits_sign_out"),
                path(
                    "preferences/",
                    my_visits_views.MarketingPreferenceView.as_view(),
                    name="my_visits_preferences",
                ),
                path(
                    "my-data.json",
                    my_visits_views.DownloadMyDataView.as_view(),
                    name="my_visits_download",
                ),
                path(
                    "delete/", my_visits_views.DeleteMyDataView.as_view(), name="my_visits_delete"
                ),
                path(
                    "visit/<str:reference>/",
                    visit_views.VisitActionView.as_view(),
                    name="my_visits_visit",
                ),
                path(
                    "visit/<str:reference>/move/",
                    visit_views.MoveVisitView.as_view(),
                    name="my_visits_move",
                ),
                path(
                    "visit/<str:reference>/calendar.ics",
                    visit_views.VisitCalendarView.as_view(),
                    name="my_visits_calendar",
                ),
                path(
                    "waitlist/<int:pk>/leave/",
                    visit_views.LeaveWaitlistView.as_view(),
                    name="my_visits_leave_waitlist",
                ),
            ]
        ),
    ),
    path("unsubscribe/<str:token>/", my_visits_views.UnsubscribeView.as_view(), name="unsubscribe"),
    path("privacy/", views.PrivacyPolicyView.as_view(), name="privacy"),
    path("team/", views.TeamView.as_view(), name="team"),
]
