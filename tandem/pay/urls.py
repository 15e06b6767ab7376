from django.urls import path

from tandem.pay import views

app_name = "pay"
urlpatterns = [
    path("pay/", views.report_page, name="report"),
    path("pay/import/", views.import_page, name="import"),
    path("pay/template.csv", views.template_download, name="template"),
    path("pay/snapshots/<int:pk>/", views.rows_page, name="rows"),
    path("pay/explanations/", views.explain, name="explain"),
    path("pay/audit/", views.audit_page, name="audit"),
]
