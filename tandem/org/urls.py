from django.urls import path

from tandem.org import views

app_name = "org"
urlpatterns = [
    path("manage/units/", views.units, name="units"),
    path("manage/units/new/", views.unit_new, name="unit-new"),
    path("manage/units/<int:pk>/", views.unit_edit, name="unit-edit"),
    path("manage/skills/", views.skills, name="skills"),
    path("manage/skills/<int:pk>/", views.skill_edit, name="skill-edit"),
    path("manage/people/", views.people, name="people"),
    path("manage/people/new/", views.person_new, name="person-new"),
    path("manage/people/<int:pk>/", views.person, name="person"),
    path("manage/people/<int:pk>/edit/", views.person_edit, name="person-edit"),
    path("manage/people/<int:pk>/skills/", views.person_skills, name="person-skills"),
    path("manage/people/<int:pk>/pattern/", views.person_pattern, name="person-pattern"),
    path("manage/people/<int:pk>/absences/", views.absence_add, name="absence-add"),
    path(
        "manage/people/<int:pk>/absences/<int:absence_id>/remove/",
        views.absence_remove,
        name="absence-remove",
    ),
]
