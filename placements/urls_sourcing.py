"""The commissioning officer's sourcing pages (placements.views_sourcing)."""

from django.urls import path

from placements import views_sourcing as views

urlpatterns = [
    path("sourcing/", views.sourcing_queue, name="sourcing-queue"),
    path("referrals/<int:pk>/sourcing/", views.sourcing_request, name="sourcing-request"),
    path("referrals/<int:pk>/sourcing/start/", views.sourcing_start, name="sourcing-start"),
    path("referrals/<int:pk>/sourcing/answer/<int:invitation_pk>/", views.sourcing_answer,
         name="sourcing-answer"),
    path("referrals/<int:pk>/sourcing/invite/", views.sourcing_invite, name="sourcing-invite"),
    path("referrals/<int:pk>/sourcing/share/", views.options_share, name="sourcing-share"),
    path("referrals/<int:pk>/sourcing/close/", views.sourcing_close, name="sourcing-close"),
    path("referrals/<int:pk>/sourcing/quotes/<int:quote_pk>/negotiate/", views.quote_negotiate,
         name="quote-negotiate"),
    path("referrals/<int:pk>/sourcing/quotes/<int:quote_pk>/decline/", views.quote_decline,
         name="quote-decline"),
    path("referrals/<int:pk>/sourcing/quotes/<int:quote_pk>/withdraw/", views.quote_withdraw,
         name="quote-withdraw"),
]
