from django.urls import path

from tandem.api import api

urlpatterns = [path("", api.urls)]
