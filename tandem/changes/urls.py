from django.urls import path

from tandem.changes import views

app_name = "changes"
urlpatterns = [
    path("changes/", views.calendar_page, name="calendar"),
    path("changes/new/", views.new_change, name="new"),
    path("changes/rules/", views.rules_page, name="rules"),
    path("changes/<int:pk>/", views.change_page, name="change"),
    path("changes/periods/<int:pk>/batch/", views.accept_batch, name="batch"),
    path("changes/<int:pk>/<slug:what>/", views.change_action, name="act"),
]
