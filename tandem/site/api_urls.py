from django.urls import path, re_path

from tandem.site.api import api, endpoint_not_found

urlpatterns = [
    path("", api.urls),
    # Anything else under /api/ answers a JSON 404 in the API's error shape, not an HTML page.
    re_path(r"^(?P<rest>.*)$", endpoint_not_found),
]
