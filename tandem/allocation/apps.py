from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "tandem.allocation"
    label = "allocation"
    verbose_name = "Allocation"

    def ready(self) -> None:
        from tandem.allocation import reactions
        from tandem.outbox.registry import subscribe

        # Re-planning calls actions, which own their transactions: not inside the message's.
        subscribe("allocation", reactions.TOPICS, reactions.react, in_transaction=False)
