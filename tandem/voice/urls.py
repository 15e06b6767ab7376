from django.urls import path

from tandem.org.middleware import before_sign_in
from tandem.voice import review_views, views

app_name = "voice"
urlpatterns = [
    path("pulse/", views.pulse, name="pulse"),
    path("pulse/results/", views.results_page, name="results"),
    path("pulse/link/<str:token>/", before_sign_in(views.link), name="link"),
    path("feedback/", views.feedback, name="feedback"),
    path("executive/", views.executive, name="executive"),
    path("kudos/", views.kudos, name="kudos"),
    path("service-review/", review_views.service_review, name="service-review"),
    path("service-review/reports/<int:pk>/", review_views.service_report, name="service-report"),
    path("gifts/", views.gifts, name="gifts"),
    path("requests/<request:pk>/rating/", views.rate, name="rate"),
    path("requests/<request:pk>/rating/answer/", views.answer, name="answer"),
    path("requests/<request:pk>/ask-rating/", views.rate_ask, name="rate-ask"),
]
