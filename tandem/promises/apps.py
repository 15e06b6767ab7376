from django.apps import AppConfig

from tandem.outbox.registry import subscribe


class PromisesConfig(AppConfig):
    name = "tandem.promises"
    label = "promises"
    verbose_name = "Promises"

    def ready(self) -> None:
        from tandem.promises import reactions

        subscribe("promises", reactions.TOPICS, reactions.react)
        # After the commit: quoting may build the unit's book, which must not hold the database;
        # it can safely run twice (a request keeps the promise it was given first).
        subscribe("quotes", reactions.QUOTE_TOPICS, reactions.quote, in_transaction=False)
