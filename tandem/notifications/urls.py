from django.urls import path

from tandem.notifications import views

app_name = "notifications"
urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read/", views.read_all, name="read-all"),
    path("notifications/email/", views.email_preference, name="email"),
]
