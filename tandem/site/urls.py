"""Every page's address: each area's own, and the site's pages that bring several areas together
(``tandem.site.views``), each wired into the namespace of the area it belongs to so that its
URL and its name stay the area's (``catalogue:submit``, ``work:request``, ...)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from tandem.catalogue import manage_urls as catalogue_manage
from tandem.catalogue import urls as catalogue
from tandem.org import urls as org
from tandem.org.forms import AdminSignInForm
from tandem.org.middleware import before_sign_in
from tandem.org.sso import FinishSignIn, StartSignIn, choose_provider
from tandem.org.views import SignInView
from tandem.site import views
from tandem.work import urls as work
from tandem.work.views import home

# The admin's own sign-in page goes through the same lockout, and says so in the same words.
admin.site.login_form = AdminSignInForm


def area(urls: object, *site_pages: URLPattern) -> tuple[list[URLPattern | URLResolver], str]:
    """An area's URL patterns with the site's pages of that area, under the area's namespace."""
    return [*site_pages, *urls.urlpatterns], urls.app_name  # type: ignore[attr-defined]


urlpatterns = [
    # First: most traffic is the API, and Django tries the patterns in order.
    path("api/", include("tandem.site.api_urls")),
    path("", home, name="home"),
    path("accounts/login/", before_sign_in(SignInView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/sso/", before_sign_in(choose_provider), name="sso"),
    path("accounts/sso/callback/", before_sign_in(FinishSignIn.as_view()), name="sso_callback"),
    path("accounts/sso/<slug:slug>/", before_sign_in(StartSignIn.as_view()), name="sso_start"),
    path("admin/", admin.site.urls),
    path(
        "",
        include(
            area(
                work,
                path("requests/<request:pk>/", views.request_detail, name="request"),
                path("queue/", views.queue, name="queue"),
            )
        ),
    ),
    path("", include(area(catalogue, path("catalogue/<slug:slug>/request/", views.submit, name="submit")))),
    path("", include("tandem.notifications.urls")),
    path("", include(area(org, path("manage/", views.hub, name="manage")))),
    path(
        "manage/services/",
        include(area(catalogue_manage, path("<int:pk>/reviews/", views.service_review, name="reviews"))),
    ),
    path("", include("tandem.agreements.urls")),
    path("", include("tandem.promises.urls")),
    path("", include("tandem.demand.urls")),
    path("", include("tandem.changes.urls")),
    path("", include("tandem.search.urls")),
    path("", include("tandem.allocation.urls")),
    path("", include("tandem.insights.urls")),
    path("", include("tandem.voice.urls")),
    path("", include("tandem.pay.urls")),
]
