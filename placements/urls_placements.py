"""Filled in by the money pages (issue 5)."""

urlpatterns = []
