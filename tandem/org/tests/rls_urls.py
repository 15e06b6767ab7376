"""The site's pages plus one that forgets to scope: it counts every request, as a query entry
missing its permission check would (tests of row-level security)."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

from tandem import isolation
from tandem.site.urls import urlpatterns as site
from tandem.work.models import ServiceRequest


def unscoped(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('tandem.organisation', true)")
        setting = cursor.fetchone()[0]
    return JsonResponse({"requests": ServiceRequest.objects.count(), "setting": setting or ""})


def context(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"context": isolation.current()})


urlpatterns = [path("unscoped/", unscoped), path("context/", context), *site]
