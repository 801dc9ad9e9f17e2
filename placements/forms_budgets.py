"""Forms for the budget pages. Shapes only: placements.services.budgets decides (who may,
whether a placement type and provider code is free this year, whether the reason is
given)."""

from decimal import Decimal

from django import forms

from core.forms import GovukForm
from providers.reference import PlacementType, PlaceProvider, financial_year_label

# The grid's columns: every SSDA903 provider code, then "no code" (temporary and other
# placements have none).
PROVIDER_COLUMNS = [*PlaceProvider.values, ""]


def rule_value(placement_type: str, place_provider: str) -> str:
    return f"{placement_type}:{place_provider}"


RULE_CHOICES = [
    (rule_value(placement_type, code), f"{placement_type} with {code or 'no provider code'}")
    for placement_type in PlacementType.values
    for code in PROVIDER_COLUMNS
]


class MoneyField(forms.DecimalField):
    """Pounds and pence; "£250,000" is read as 250000."""

    def __init__(self, *, required_message: str, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        # A text box, so that "£" and commas may be typed.
        kwargs.setdefault("widget", forms.TextInput(attrs={
            "class": "govuk-input--width-10", "inputmode": "decimal", "spellcheck": "false",
        }))
        kwargs.setdefault("error_messages", {
            "required": required_message,
            "invalid": "Enter an amount in pounds, for example 250000.00",
            "min_value": "The amount cannot be negative",
            "max_digits": "The amount is too large",
            "max_whole_digits": "The amount is too large",
            "max_decimal_places": "Enter the amount in pounds and pence, for example 250000.50",
        })
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace("£", "").replace(",", "")
        return super().to_python(value)


class RulesField(forms.MultipleChoiceField):
    """Ticked (placement type, provider code) pairs; cleaned to a list of tuples."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(choices=RULE_CHOICES, required=False, **kwargs)

    def clean(self, value):
        return [tuple(pair.split(":", 1)) for pair in super().clean(value)]


class BudgetLineRulesForm(GovukForm):
    """Which placements fall in a line, as a grid of placement types × provider codes.
    Pairs that another line of the year already has show that line's name instead of a box
    (the service refuses them anyway, naming the line)."""

    rules = RulesField(
        label="Placements in this line",
        help_text="Tick each placement type and SSDA903 provider code the line pays for. "
        "A placement type and provider code can be in one line a year only.",
    )

    def __init__(self, *args, owners: dict[tuple[str, str], str], **kwargs):
        super().__init__(*args, **kwargs)
        self.owners = owners

    def grid(self) -> list[dict]:
        """One row per placement type: its cells in PROVIDER_COLUMNS order, each a checkbox
        or the name of the line that has the pair."""
        boxes = iter(enumerate(self["rules"].subwidgets))
        rows = []
        for placement_type, label in PlacementType.choices:
            cells = []
            for code in PROVIDER_COLUMNS:
                index, box = next(boxes)
                # The error summary links to the first box; a name there must take its id.
                cells.append({"box": box, "owner": self.owners.get((placement_type, code)),
                              "first": index == 0})
            rows.append({"code": placement_type, "label": label, "cells": cells})
        return rows


class BudgetLineForm(BudgetLineRulesForm):
    name = forms.CharField(max_length=100, label="Name of the budget line",
                           help_text="For example, Independent fostering agencies",
                           error_messages={"required": "Enter the name of the budget line"})
    amount = MoneyField(label="Budget for the year, in pounds",
                        required_message="Enter the budget for the year")

    field_order = ["name", "amount", "rules"]


class BudgetAdjustForm(GovukForm):
    """`expected_amount` carries the amount the page showed, so that an adjustment made by
    someone else meanwhile is not overwritten unseen."""

    new_amount = MoneyField(label="New budget for the year, in pounds",
                            required_message="Enter the new budget for the year")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), label="Reason for the adjustment",
        help_text="For example, the virement agreed by the Director on 3 October. It is kept "
        "with the budget line's history.",
        error_messages={"required": "Enter the reason for the adjustment"},
    )
    expected_amount = forms.DecimalField(widget=forms.HiddenInput, required=False,
                                         max_digits=12, decimal_places=2)


class FinancialYearOpenForm(GovukForm):
    start_year = forms.IntegerField(
        min_value=2000, max_value=2099, label="Year the financial year starts in",
        help_text="Financial years run from 1 April to 31 March: for 2027/28 enter 2027.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-4"}),
    )


class BudgetYearCopyForm(GovukForm):
    to_year = forms.IntegerField(
        min_value=2000, max_value=2099, label="Copy to the financial year starting in",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-4"}),
    )
    uplift_percentage = forms.DecimalField(
        min_value=0, max_value=100, max_digits=5, decimal_places=2, initial=Decimal("0"),
        label="Uplift every amount by (%)",
        help_text="For example 3.5. Amounts are rounded to the nearest penny. Enter 0 to "
        "copy the amounts as they are.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-4"}),
    )


class BudgetYearForm(GovukForm):
    year = forms.TypedChoiceField(
        coerce=int, label="Financial year",
        error_messages={"invalid_choice": "Select a financial year from the list"},
    )

    def __init__(self, *args, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [
            (year.start_year, financial_year_label(year.start_year)) for year in years
        ]
