from django.urls import path

from tandem.notifications import manage_views, views

app_name = "notifications"
urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read/", views.read_all, name="read-all"),
    path("notifications/email/", views.email_preference, name="email"),
    path("manage/webhooks/", manage_views.webhooks, name="webhooks"),
    path("manage/webhooks/<int:pk>/", manage_views.webhook, name="webhook"),
    path("manage/webhooks/<int:pk>/rotate/", manage_views.rotate, name="webhook-rotate"),
    path("manage/webhooks/<int:pk>/active/", manage_views.set_active, name="webhook-active"),
    path("manage/webhooks/<int:pk>/replay-failed/", manage_views.replay_failed, name="webhook-replay-failed"),
    path("manage/webhooks/<int:pk>/deliveries/<int:delivery_id>/replay/", manage_views.replay,
         name="webhook-replay"),
]
