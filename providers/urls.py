from django.urls import path

from providers import views

urlpatterns = [
    path("providers/", views.service_directory, name="service-directory"),
    path("providers/new/", views.provider_create, name="provider-create"),
    path("providers/import/", views.service_import, name="service-import"),
    path("providers/import/template.csv", views.service_import_template,
         name="service-import-template"),
    path("providers/<int:pk>/", views.provider_detail, name="provider-detail"),
    path("providers/<int:pk>/edit/", views.provider_edit, name="provider-edit"),
    path("providers/<int:provider_pk>/services/new/", views.service_create, name="service-create"),
    path("providers/<int:provider_pk>/discounts/new/", views.discount_create,
         name="discount-create"),
    path("providers/services/<int:pk>/", views.service_detail, name="service-detail"),
    path("providers/services/<int:pk>/edit/", views.service_edit, name="service-edit"),
    path("providers/discounts/<int:pk>/end/", views.discount_end, name="discount-end"),
    path("frameworks/", views.framework_list, name="framework-list"),
    path("frameworks/<int:pk>/", views.framework_detail, name="framework-detail"),
    path("frameworks/<int:pk>/rates/new/", views.framework_rate_set, name="framework-rate-set"),
    path("frameworks/<int:pk>/uplift/", views.framework_uplift, name="framework-uplift"),
    path("frameworks/<int:pk>/import-rates/", views.rate_import, name="rate-import"),
    path("frameworks/<int:pk>/import-rates/template.csv", views.rate_import_template,
         name="rate-import-template"),
]
