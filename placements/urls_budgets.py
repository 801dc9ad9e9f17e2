"""Budget pages (placements.views_budgets): finance managers write, administrators read."""

from django.urls import path

from placements import views_budgets as views

urlpatterns = [
    path("budgets/", views.budget_list, name="budget-list"),
    path("budgets/years/new/", views.budget_year_open, name="budget-year-open"),
    path("budgets/<int:year>/mapping/", views.budget_mapping, name="budget-mapping"),
    path("budgets/<int:year>/copy/", views.budget_year_copy, name="budget-year-copy"),
    path("budgets/<int:year>/lines/new/", views.budget_line_create, name="budget-line-create"),
    path("budgets/lines/<int:pk>/", views.budget_line_detail, name="budget-line-detail"),
    path("budgets/lines/<int:pk>/rules/", views.budget_line_rules, name="budget-line-rules"),
    path("budgets/lines/<int:pk>/adjust/", views.budget_line_adjust, name="budget-line-adjust"),
]
