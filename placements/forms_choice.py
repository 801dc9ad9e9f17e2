"""Forms for choosing an offer, confirming the placement and filtering the savings report.
They hold no business rules: placements.services.sourcing decides."""

from django import forms

from core.forms import DateInput, GovukForm
from placements.reference import ReasonPlaceChange
from providers.reference import financial_year_label


class OfferChoiceForm(GovukForm):
    """The social worker picks one of the offers compared on the page, and says why."""

    quote = forms.TypedChoiceField(
        coerce=int, widget=forms.RadioSelect, label="Which offer do you choose?",
        error_messages={"required": "Select the offer you choose"},
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Why this offer?",
        help_text="For example, how it meets the child's needs. This is recorded on the referral.",
        error_messages={"required": "Enter why you chose this offer"},
    )

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quote"].choices = [
            (option.quote.pk, _option_label(option)) for option in options
        ]


def _option_label(option) -> str:
    service = option.quote.service
    return f"{service.name} ({service.provider.name}): £{option.price:,.2f} a week, score {option.score}"


class ConfirmPlacementForm(GovukForm):
    """What the commissioning officer sets when confirming the chosen offer. `quote` carries
    the offer the page showed, so that a choice changed meanwhile is not confirmed unseen."""

    quote = forms.IntegerField(widget=forms.HiddenInput, required=False)
    start_date = forms.DateField(
        widget=DateInput(format="%Y-%m-%d"), label="When does the placement start?",
        error_messages={
            "required": "Enter the date the placement starts",
            "invalid": "Enter a real date, for example 20 January 2027",
        },
    )
    apply_discount = forms.BooleanField(required=False, label="Apply the provider's discount")
    end_reason = forms.ChoiceField(
        choices=ReasonPlaceChange.choices, widget=forms.RadioSelect,
        label="Why does the child's current placement end?",
        help_text="The SSDA903 reason for the placement change.",
        error_messages={"required": "Select why the current placement ends"},
    )

    def __init__(self, *args, discount=None, has_current_placement: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if discount is None:
            del self.fields["apply_discount"]
        else:
            self.fields["apply_discount"].help_text = (
                f"{discount.percentage.normalize():f}% off the agreed price: {discount.description}."
            )
        if not has_current_placement:
            del self.fields["end_reason"]


class SavingsFilterForm(GovukForm):
    financial_year = forms.TypedChoiceField(
        coerce=int, required=False, label="Financial year", empty_value=None,
        error_messages={"invalid_choice": "Select a financial year from the list"},
    )

    def __init__(self, *args, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["financial_year"].choices = [("", "All years")] + [
            (year, financial_year_label(year)) for year in years
        ]
