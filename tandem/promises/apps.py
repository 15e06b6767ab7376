from django.apps import AppConfig


class PromisesConfig(AppConfig):
    name = "tandem.promises"
    label = "promises"
    verbose_name = "Promises"
