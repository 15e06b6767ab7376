from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "tandem.changes"
    label = "changes"
    verbose_name = "The change calendar"
