from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "tandem.org"
    label = "org"
    verbose_name = "Organisation"

    def ready(self) -> None:
        from tandem import isolation
        from tandem.org import checks  # noqa: F401  (registers `tandem check` sanity checks)

        isolation.install()  # every PostgreSQL transaction carries the organisation context
