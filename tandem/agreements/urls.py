"""Calendar, agreement and customer-agreement pages, under /manage/."""

from django.urls import path

from tandem.agreements import client_views, views

app_name = "agreements"
urlpatterns = [
    path("manage/clients/", client_views.clients, name="clients"),
    path("manage/clients/new/", client_views.client_new, name="client-new"),
    path("manage/clients/<int:pk>/", client_views.client, name="client"),
    path("manage/clients/<int:pk>/contracts/", client_views.client_contract_add, name="client-contract-add"),
    path("manage/clients/<int:pk>/contracts/<int:contract_pk>/end/", client_views.client_contract_end,
         name="client-contract-end"),
    path("manage/calendars/", views.calendars, name="calendars"),
    path("manage/calendars/<slug:slug>/", views.calendar_edit, name="calendar"),
    path("manage/calendars/service/<slug:slug>/", views.service_calendar_edit, name="service-calendar"),
    path("manage/agreements/", views.agreements, name="agreements"),
    path("manage/agreements/new/", views.agreement_new, name="agreement-new"),
    path("manage/agreements/<int:pk>/", views.agreement_edit, name="agreement"),
    path("manage/customer-agreements/", views.customer_agreements, name="customer-agreements"),
    path("manage/customer-agreements/new/", views.customer_agreement_new, name="customer-agreement-new"),
    path("manage/customer-agreements/<int:pk>/", views.customer_agreement_edit, name="customer-agreement"),
]
