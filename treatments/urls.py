from django.urls import path

from . import views

app_name = "treatments"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("treatments/", views.TreatmentListView.as_view(), name="list"),
    path("treatments/<slug:slug>/", views.TreatmentDetailView.as_view(), name="detail"),
    path("compare/", views.ComparisonView.as_view(), name="comparison"),
    path("faqs/", views.FAQListView.as_view(), name="faqs"),
    path("guide/", views.GuideView.as_view(), name="guide"),
]
