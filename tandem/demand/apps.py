from django.apps import AppConfig


class DemandConfig(AppConfig):
    name = "tandem.demand"
    label = "demand"
    verbose_name = "Demand"
