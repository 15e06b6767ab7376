from django.apps import AppConfig


class WorkConfig(AppConfig):
    name = "tandem.work"
    label = "work"
