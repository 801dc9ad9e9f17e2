from django.urls import path

from panels import views

urlpatterns = [
    path("panels/meetings/", views.meeting_list, name="meeting-list"),
    path("panels/meetings/<int:pk>/", views.meeting_detail, name="meeting-detail"),
    path("panels/meetings/<int:pk>/minutes/", views.meeting_minutes, name="meeting-minutes"),
    path("panels/meetings/<int:pk>/add/", views.meeting_add_referral, name="meeting-add-referral"),
    path("panels/meetings/<int:pk>/move/", views.meeting_move_item, name="meeting-move-item"),
    path("panels/meetings/<int:pk>/close/", views.meeting_close, name="meeting-close"),
    path("panels/items/<int:pk>/decide/", views.item_decide, name="item-decide"),
    path("panels/items/<int:pk>/remove/", views.item_remove, name="item-remove"),
    path("panels/decisions/<int:pk>/correct/", views.decision_correct, name="decision-correct"),
    path("director/approvals/", views.director_queue, name="director-queue"),
    path("director/approvals/<int:pk>/", views.director_decide, name="director-decide"),
]
