from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "tandem.allocation"
    label = "allocation"
    verbose_name = "Allocation"
