"""Forms for changing a placement over time. They check the shape of the answers only:
placements.services.placements decides what is allowed."""

from django import forms

from core.forms import DateInput, GovukForm
from placements.models import Contribution, PlacementCost
from placements.reference import ReasonPlaceChange
from providers.models import Service
from providers.reference import PlacementType

R = PlacementCost.Reason
REAL_DATE = "Enter a real date, for example 20 January 2027"


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        widget=DateInput, label=label, required=required, help_text=help_text,
        error_messages={"invalid": REAL_DATE},
    )


def pounds_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=required, help_text=help_text, min_value=0, max_digits=12,
        decimal_places=2, widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
        error_messages={
            "invalid": "Enter an amount in pounds, like 850.00",
            "min_value": "Enter an amount of £0.00 or more",
            "max_digits": "Enter an amount less than £10,000,000,000",
            "max_whole_digits": "Enter an amount less than £10,000,000,000",
            "max_decimal_places": "Enter an amount in pounds and pence, like 850.25",
        },
    )


class CostChangeForm(GovukForm):
    effective_from = date_field(
        "From what date does the new weekly cost apply?",
        help_text="Weeks before this date keep the cost they had.",
    )
    weekly_amount = pounds_field("New weekly cost in pounds")
    reason = forms.ChoiceField(
        choices=[(r.value, r.label) for r in (R.UPLIFT, R.RENEGOTIATION, R.STEP_DOWN)],
        widget=forms.RadioSelect, label="Why does the cost change?",
        error_messages={"required": "Select why the cost changes"},
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Note (optional)",
        help_text="For example, the provider's letter or the agreement it came from.",
    )


class RetainerForm(GovukForm):
    court_order_reference = forms.CharField(
        max_length=50, label="Court order reference",
        help_text="A retainer is paid only when a court orders it.",
        error_messages={"required": "Enter the court order reference"},
    )
    effective_from = date_field("When does the retainer start?")
    effective_to = date_field(
        "When does the retainer end? (optional)", required=False,
        help_text="The first day it no longer applies; the weekly cost before it then resumes. "
        "Leave empty if not yet known.",
    )
    weekly_amount = pounds_field("Weekly retainer in pounds")


class ContributionAddForm(GovukForm):
    funder = forms.ChoiceField(
        choices=Contribution.Funder.choices, widget=forms.RadioSelect, label="Who contributes?",
        error_messages={"required": "Select who contributes"},
    )
    funder_name = forms.CharField(
        max_length=200, required=False, label="Name of the funder (optional)",
        help_text="For example, the integrated care board. Needed for 'Other'.",
    )
    weekly_amount = pounds_field(
        "Weekly amount in pounds", required=False,
        help_text="Enter a weekly amount or a percentage of the weekly cost, not both.",
    )
    percentage = forms.DecimalField(
        label="Or a percentage of the weekly cost", required=False, min_value=0, max_value=100,
        max_digits=5, decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
        error_messages={
            "invalid": "Enter the percentage as a number, like 25",
            "min_value": "Enter a percentage more than 0",
            "max_value": "Enter a percentage of 100 or less",
            "max_digits": "Enter a percentage of 100 or less",
            "max_decimal_places": "Enter a percentage with at most 2 decimal places",
        },
    )
    start_date = date_field("When does the contribution start?")
    end_date = date_field(
        "When does it end? (optional)", required=False,
        help_text="The first day it no longer applies. Leave empty if open-ended.",
    )


class ContributionEndForm(GovukForm):
    end_date = date_field(
        "From what date does the funder stop paying?",
        help_text="The first day the contribution no longer applies.",
    )


def _reason_field(label: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=ReasonPlaceChange.choices, widget=forms.RadioSelect, label=label,
        help_text="The SSDA903 reason for the placement change.",
        error_messages={"required": "Select why the placement ends"},
    )


class PlacementEndForm(GovukForm):
    end_date = date_field(
        "On what date did the placement end?",
        help_text="The day the child left: they did not stay there that night.",
    )
    reason = _reason_field("Why did it end?")


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, service: Service) -> str:
        return f"{service.provider.name}: {service.name}"


class ChildMoveForm(GovukForm):
    end_date = date_field(
        "On what date does the child move?",
        help_text="This placement ends and the next one starts on this day.",
    )
    reason = _reason_field("Why does this placement end?")
    service = ServiceChoiceField(
        queryset=Service.objects.none(), label="Where does the child move to?",
        empty_label="Choose a service", error_messages={
            "required": "Select the service the child moves to",
            "invalid_choice": "Select a service from the list",
        },
    )
    placement_type = forms.ChoiceField(
        choices=[("", "Choose a placement type"), *PlacementType.choices],
        label="Type of the new placement",
        error_messages={"required": "Select the type of the new placement"},
    )
    weekly_amount = pounds_field("Weekly cost of the new placement in pounds")
    on_framework = forms.BooleanField(required=False, label="Bought under a framework agreement")
    planned_end_date = date_field("Planned end date (optional)", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = (
            Service.objects.filter(is_active=True).select_related("provider")
            .order_by("provider__name", "name")
        )
