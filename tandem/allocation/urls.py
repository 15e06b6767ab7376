"""Capacity, allocation-plan and loan pages, under /manage/."""

from django.urls import path

from tandem.allocation import views

app_name = "allocation"
urlpatterns = [
    path("manage/capacity/", views.capacity, name="capacity"),
    path("manage/capacity/hand-back/<int:person_id>/", views.hand_back, name="hand-back"),
    path("manage/plan/", views.plan, name="plan"),
    path("manage/plan/propose/", views.propose, name="propose"),
    path("manage/plan/<int:pk>/accept/", views.accept, name="accept"),
    path("manage/plan/mode/", views.set_mode, name="mode"),
    path("manage/plan/queue-order/", views.set_queue_policy, name="queue-policy"),
    path("queue/take-next/", views.take_next, name="take-next"),
    path("manage/loans/", views.loans, name="loans"),
    path("manage/demand/loans/", views.week_loans, name="week-loans"),
    path("manage/demand/loans/ask/", views.ask_week_loan, name="ask-week-loan"),
    path("productivity/", views.productivity, name="productivity"),
    path("manage/loans/<int:pk>/agree/", views.loan_agree, name="loan-agree"),
    path("manage/loans/<int:pk>/end/", views.loan_end, name="loan-end"),
]
