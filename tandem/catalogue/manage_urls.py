"""The service editor, included at ``/manage/services/``."""

from django.urls import path

from tandem.catalogue import manage_views as views

app_name = "manage_services"
urlpatterns = [
    path("", views.services, name="list"),
    path("new/", views.service_new, name="new"),
    path("<int:pk>/", views.service_edit, name="edit"),
    path("<int:pk>/reviewed/", views.service_reviewed, name="reviewed"),
    path("reviews/due/", views.reviews_due_page, name="reviews-due"),
    path("<int:pk>/fields/", views.field_add, name="field-add"),
    path("<int:pk>/fields/<int:field_id>/", views.field_edit, name="field-edit"),
    path("<int:pk>/fields/<int:field_id>/move/", views.field_move, name="field-move"),
    path("<int:pk>/fields/<int:field_id>/remove/", views.field_remove, name="field-remove"),
    path("<int:pk>/approval/", views.approval_set, name="approval"),
    path("<int:pk>/cutoffs/", views.cutoff_add, name="cutoff-add"),
    path("<int:pk>/cutoffs/<int:cutoff_id>/remove/", views.cutoff_remove, name="cutoff-remove"),
    path("<int:pk>/cutoffs/run-field/", views.run_field_set, name="run-field"),
    path("<int:pk>/skills/", views.need_set, name="need-set"),
    path("<int:pk>/skills/<int:skill_id>/remove/", views.need_remove, name="need-remove"),
    path("<int:pk>/steps/", views.step_add, name="step-add"),
    path("<int:pk>/steps/<int:step_id>/", views.step_edit, name="step-edit"),
    path("<int:pk>/steps/<int:step_id>/move/", views.step_move, name="step-move"),
    path("<int:pk>/steps/<int:step_id>/remove/", views.step_remove, name="step-remove"),
]
