from django.apps import AppConfig

from tandem.outbox.registry import subscribe


class AllocationConfig(AppConfig):
    name = "tandem.allocation"
    label = "allocation"
    verbose_name = "Allocation"

    def ready(self) -> None:
        # Re-planning calls actions, which own their transactions: not inside the message's.
        # The handler is imported when it first runs (it brings the allocation solver with it).
        subscribe(
            "allocation",
            ["absence.recorded", "loan.agreed", "loan.ended"],
            "tandem.allocation.reactions.react",
            in_transaction=False,
        )
