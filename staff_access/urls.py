from django.contrib import admin
from django.urls import path

from . import views

app_name = "staff_access"

# Included under the admin's address (clinic_site/urls.py); admin_view lets
# only active staff in and marks every page never to be cached.
urlpatterns = [
    path("", admin.site.admin_view(views.overview), name="overview"),
    path("enrol/", admin.site.admin_view(views.enrol), name="enrol"),
    path("code/", admin.site.admin_view(views.second_factor), name="second_factor"),
]
