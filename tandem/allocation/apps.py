from django.apps import AppConfig

from tandem.objections import register
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
        # Taking or giving a request out of the queue's order is recorded by work's actions,
        # which ask here what it jumps (the order weighs the promise, which work cannot see).
        from tandem.allocation import objections

        register("request.queue_ahead", objections.queue_ahead)
