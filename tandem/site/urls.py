from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tandem.org.forms import AdminSignInForm
from tandem.org.views import SignInView
from tandem.work.views import home

# The admin's own sign-in page goes through the same lockout, and says so in the same words.
admin.site.login_form = AdminSignInForm

urlpatterns = [
    # First: most traffic is the API, and Django tries the patterns in order.
    path("api/", include("tandem.api_urls")),
    path("", home, name="home"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("tandem.work.urls")),
    path("", include("tandem.catalogue.urls")),
    path("", include("tandem.notifications.urls")),
    path("", include("tandem.org.urls")),
    path("manage/services/", include("tandem.catalogue.manage_urls")),
    path("", include("tandem.agreements.urls")),
    path("", include("tandem.promises.urls")),
    path("", include("tandem.allocation.urls")),
    path("", include("tandem.insights.urls")),
    path("", include("tandem.voice.urls")),
]
