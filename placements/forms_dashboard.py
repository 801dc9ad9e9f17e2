"""The dashboard's choice of financial year and team (also read by its exports)."""

from django import forms

from core.forms import GovukForm
from core.models import Team
from providers.reference import financial_year_label


class DashboardFilterForm(GovukForm):
    year = forms.TypedChoiceField(
        label="Financial year", coerce=int, required=False, empty_value=None
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, empty_label="All teams",
        label="Team",
        error_messages={"invalid_choice": "Select a team from the list"},
    )

    def __init__(self, *args, years: list[int], choose_team: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(year, financial_year_label(year)) for year in years]
        self.fields["year"].error_messages["invalid_choice"] = "Select a financial year from the list"
        if not choose_team:
            # A team manager's dashboard is their own team's: nothing to choose.
            del self.fields["team"]
