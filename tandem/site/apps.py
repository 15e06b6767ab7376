from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The top layer: it wires every app into one product (the URL map, the API, the shared
    template tags, the worker and the commands that start things). It may import any app;
    no app imports it."""

    name = "tandem.site"
    label = "site"
    verbose_name = "Site"
