from django.apps import AppConfig

from tandem.outbox.registry import subscribe


class NotificationsConfig(AppConfig):
    name = "tandem.notifications"
    label = "notifications"

    def ready(self) -> None:
        from tandem.notifications import reactions, webhooks

        subscribe("notifications", reactions.TOPICS, reactions.react)
        # The network must never hold the database: webhooks are sent outside any transaction.
        subscribe("webhooks", webhooks.SLA_TOPICS, webhooks.react, in_transaction=False)
