from django.urls import path

from tandem.demand import views

app_name = "demand"
urlpatterns = [
    path("manage/demand/", views.plan, name="plan"),
    path("demand/", views.overview, name="overview"),
    path("demand/declare/", views.declare, name="declare"),
]
