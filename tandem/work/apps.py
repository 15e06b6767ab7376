from django.apps import AppConfig

from tandem.objections import register


class WorkConfig(AppConfig):
    name = "tandem.work"
    label = "work"

    def ready(self) -> None:
        from django.urls import register_converter

        from tandem.work import objections
        from tandem.work.addresses import CaseKey, RequestKey

        # Before any URLconf is read: request and case addresses take an id or a reference.
        register_converter(RequestKey, "request")
        register_converter(CaseKey, "case")

        register("person.leaving_unit", objections.person_leaving_unit)
        register("service.moving", objections.service_moving)
