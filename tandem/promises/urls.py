from django.urls import path

from tandem.promises import views

app_name = "promises"
urlpatterns = [
    path("promises/", views.report, name="report"),
]
