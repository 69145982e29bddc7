from django.urls import path

from . import views

app_name = "booking"

urlpatterns = [
    path("book/", views.BookConsultationView.as_view(), name="book"),
    path("privacy/", views.PrivacyPolicyView.as_view(), name="privacy"),
]
