from django.apps import AppConfig


class PromisesConfig(AppConfig):
    name = "tandem.promises"
    label = "promises"
    verbose_name = "Promises"

    def ready(self) -> None:
        from tandem.outbox.registry import subscribe
        from tandem.promises import reactions

        # Not in the message's transaction: quoting a new request may build the unit's book,
        # which must not hold the database; every reaction here can safely run twice.
        subscribe("promises", reactions.TOPICS, reactions.react, in_transaction=False)
