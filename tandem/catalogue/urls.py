from django.urls import path

from tandem.catalogue import views

app_name = "catalogue"
urlpatterns = [
    path("catalogue/", views.browse, name="browse"),
    path("catalogue/<slug:slug>/", views.service_detail, name="service"),
]
