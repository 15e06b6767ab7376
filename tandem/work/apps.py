from django.apps import AppConfig

from tandem.objections import register


class WorkConfig(AppConfig):
    name = "tandem.work"
    label = "work"

    def ready(self) -> None:
        from tandem.work import objections

        register("person.leaving_unit", objections.person_leaving_unit)
        register("service.moving", objections.service_moving)
