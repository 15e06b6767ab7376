from django.apps import AppConfig

from tandem.outbox.registry import subscribe


class NotificationsConfig(AppConfig):
    name = "tandem.notifications"
    label = "notifications"

    def ready(self) -> None:
        from tandem.notifications import reactions, webhooks

        subscribe("notifications", reactions.TOPICS, reactions.react)
        # The deliveries a request event owes are rows written with it; the worker sends them
        # (tandem.notifications.sending), since the network must never hold the database.
        subscribe("webhooks", webhooks.TOPICS, webhooks.react)
