from django.apps import AppConfig

from tandem.outbox.registry import subscribe


class SearchConfig(AppConfig):
    name = "tandem.search"
    label = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        # In the action's transaction: a request's document changes with the request, so a
        # search right after a comment finds it, and a rolled-back move leaves no words behind.
        # Once per action and request: a mailed request is submitted with its text as a first
        # comment, two events in one action, and its document was written twice.
        subscribe("search", ("request.submitted", "request.commented", "request.note_added",
                             "request.advice_given", "request.resolved"), "tandem.search.reactions.react",
                  once_per_action=True)
        # After an import: the imported requests have no document yet (the import writes rows
        # in bulk, without an action per request).
        subscribe("search-import", ("history.imported",), "tandem.search.reactions.imported",
                  in_transaction=False)
