from django.urls import path

from tandem.insights import views

app_name = "insights"
urlpatterns = [
    path("evidence/", views.dashboard, name="dashboard"),
    path("evidence/flow/", views.flow_page, name="flow"),
    path("evidence/attainment/", views.attainment_page, name="attainment"),
    path("requests/<request:pk>/journey/", views.journey_page, name="journey"),
]
