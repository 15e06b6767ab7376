from django.urls import path

from tandem.org.middleware import before_sign_in
from tandem.work import queue_views, views, views_approvals

app_name = "work"
urlpatterns = [
    path("requests/", views.my_requests, name="my-requests"),
    path("requests/<request:pk>/acknowledge/<int:comment_id>/", views.acknowledge, name="acknowledge"),
    path("requests/<request:pk>/advice/<int:comment_id>/", views.decide_advice, name="decide_advice"),
    path("requests/<request:pk>/steps/<int:step_id>/", views.mark_step, name="mark-step"),
    path("requests/<request:pk>/files/<int:file_id>/", views.attachment, name="attachment"),
    path("my-approvals/", views_approvals.my_approvals, name="my-approvals"),
    path("approvals/<str:token>/", before_sign_in(views_approvals.approval_link), name="approval-link"),
    path("cases/", views.my_cases, name="my-cases"),
    path("queue/bulk/", queue_views.bulk, name="queue-bulk"),
    path("queue/views/", queue_views.save_view, name="view-save"),
    path("queue/views/<int:pk>/rename/", queue_views.rename_view, name="view-rename"),
    path("queue/views/<int:pk>/delete/", queue_views.delete_view, name="view-delete"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<case:pk>/", views.case_detail, name="case"),
    path("cases/<case:pk>/close/", views.case_close, name="case-close"),
]
# Every move on a request posts to its own address, e.g. /requests/42/resolve/ (name "resolve").
urlpatterns += [
    path(f"requests/<request:pk>/{verb}/", views.request_move, {"verb": verb}, name=verb)
    for verb in views.MOVES
]
