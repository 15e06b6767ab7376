from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tandem.work.views import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("tandem.work.urls")),
    path("", include("tandem.catalogue.urls")),
    path("", include("tandem.notifications.urls")),
    path("", include("tandem.org.urls")),
    path("manage/services/", include("tandem.catalogue.manage_urls")),
    path("", include("tandem.agreements.urls")),
    path("api/", include("tandem.api_urls")),
]
