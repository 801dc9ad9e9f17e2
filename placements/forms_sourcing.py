"""Forms for the commissioning officer's sourcing pages. They check the shape of what was
typed; the sourcing services decide every rule (prices, reasons, who may act)."""

import django_filters
from django import forms
from django.db.models import F

from core.errors import DomainError, InvalidInput
from core.forms import DateInput, GovukForm, show_domain_error
from placements.models import Referral
from placements.selectors import SOURCING_QUEUE_STATUSES
from providers.models import NegotiationStep
from providers.reference import Need, PlacementType, Urgency

SORTS = [("urgency", "Urgency, then wanted date"), ("deadline", "Response deadline")]
PRICE_HINT = "In pounds, for example 875.00"


class SourcingQueueFilter(django_filters.FilterSet):
    """Filters for the sourcing queue. The view orders by urgency unless told otherwise."""

    status = django_filters.MultipleChoiceFilter(
        choices=[(s.value, s.label) for s in SOURCING_QUEUE_STATUSES],
        widget=forms.CheckboxSelectMultiple, label="Status",
    )
    urgency = django_filters.MultipleChoiceFilter(
        choices=Urgency.choices, widget=forms.CheckboxSelectMultiple, label="Urgency"
    )
    sort = django_filters.ChoiceFilter(
        choices=SORTS, method="sort_by", label="Sort by", empty_label=None
    )

    class Meta:
        model = Referral
        fields = ["status", "urgency"]
        form = GovukForm

    def sort_by(self, queryset, name, value):
        if value == "deadline":
            return queryset.order_by(F("response_deadline").asc(nulls_last=True), "urgency_rank",
                                     "wanted_start_date", "pk")
        return queryset


class SourcingStartForm(GovukForm):
    needs = forms.MultipleChoiceField(
        choices=Need.choices, widget=forms.CheckboxSelectMultiple, required=False,
        label="The child's needs", help_text="Services that accept these needs rank higher.",
    )
    needs_summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, label="Summary for providers",
        help_text="What the child needs from a placement, in a few sentences.",
    )
    placement_type = forms.ChoiceField(choices=PlacementType.choices, label="Placement type")
    max_distance_miles = forms.IntegerField(
        required=False, min_value=1, max_value=500, label="Distance limit in miles",
        help_text="Services further than this from the child's home area do not match. "
        "Leave empty for no limit.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-4"}),
        error_messages={"invalid": "Enter the distance limit as a whole number of miles",
                        "min_value": "Enter a distance limit of 1 mile or more",
                        "max_value": "Enter a distance limit of 500 miles or less"},
    )
    planned_end_date = forms.DateField(
        required=False, widget=DateInput, label="Planned end date (optional)",
        help_text="When known; savings count the weeks until then.",
        error_messages={"invalid": "Enter a real date, for example 20 January 2027"},
    )

    def __init__(self, *args, referral, **kwargs):
        kwargs.setdefault("initial", {
            "needs_summary": referral.needs_summary,
            "placement_type": referral.placement_type_sought,
            "max_distance_miles": 20 if referral.must_be_within_20_miles else None,
        })
        super().__init__(*args, **kwargs)


class DescribedCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes each described by its own hint (id "<checkbox id>-hint")."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if "id" in option["attrs"]:
            option["attrs"]["aria-describedby"] = f"{option['attrs']['id']}-hint"
        return option


class SourcingSendForm(GovukForm):
    """Which services to send the draft request to: a checkbox per service of the
    shortlist (the proposed framework matches ticked), and a reason box per
    off-framework service."""

    services = forms.MultipleChoiceField(
        widget=DescribedCheckboxes, required=False, label="Services to send it to"
    )

    def __init__(self, *args, shortlist, **kwargs):
        everyone = shortlist.candidates + shortlist.excluded
        proposed = [str(c.service.pk) for c in shortlist.proposed()]
        kwargs.setdefault("initial", {"services": proposed})
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = [(str(c.service.pk), str(c.service)) for c in everyone]
        for candidate in everyone:
            if not candidate.on_framework and not candidate.in_house:
                self.fields[self.reason_field(candidate.service.pk)] = forms.CharField(
                    required=False, max_length=300,
                    label=f"Why invite {candidate.service}, which is off-framework?",
                    help_text="Needed only if you tick it, for example: no framework home "
                    "has a vacancy.",
                )

    @staticmethod
    def reason_field(service_pk) -> str:
        return f"reason_{service_pk}"

    def service_ids(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["services"]]

    def off_framework_reasons(self) -> dict[int, str]:
        return {
            int(name.removeprefix("reason_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("reason_") and value
        }

    def show_error(self, error: DomainError) -> None:
        """The service names a missing off-framework reason without saying which box: put it
        on the first ticked service whose box is empty, as the service checks them."""
        if isinstance(error, InvalidInput) and error.field == "off_framework_reason":
            for pk in self.service_ids():
                name = self.reason_field(pk)
                if name in self.fields and not self.cleaned_data.get(name):
                    self.add_error(name, error.message)
                    return
        show_domain_error(self, error)


class RevealingRadioSelect(forms.RadioSelect):
    """Radios whose options reveal more questions (GOV.UK conditional reveal): `reveals`
    maps an option's value to the id of the block it shows."""

    def __init__(self, *args, reveals: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.reveals = reveals

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.reveals:
            option["attrs"]["data-aria-controls"] = self.reveals[str(value)]
        return option


def _price_text(value: str) -> str:
    """Accept "£1,234.50" as typed; the service decides whether it is a price."""
    return (value or "").strip().replace("£", "").replace(",", "").strip()


class AnswerForm(GovukForm):
    OFFERED, DECLINED = "offered", "declined"

    answer = forms.ChoiceField(
        choices=[(OFFERED, "Offered"), (DECLINED, "Declined to offer")],
        widget=RevealingRadioSelect(reveals={OFFERED: "conditional-offered",
                                             DECLINED: "conditional-declined"}),
        label="What did the provider answer?",
        error_messages={"required": "Select whether the provider offered a place"},
    )
    quoted_weekly_price = forms.CharField(
        required=False, label="Weekly price quoted (£)", help_text=PRICE_HINT,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-10",
                                      "spellcheck": "false"}),
    )
    inclusions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="What the price includes",
        help_text="For example, education, therapy, staffing hours.",
    )
    available_from = forms.DateField(
        required=False, widget=DateInput, label="Available from (optional)",
        help_text="Leave empty if the place is available from the wanted start date.",
        error_messages={"invalid": "Enter a real date, for example 20 January 2027"},
    )
    decline_reason = forms.CharField(
        required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
        label="The provider's reason",
    )

    def clean_quoted_weekly_price(self):
        return _price_text(self.cleaned_data["quoted_weekly_price"])


class NegotiateForm(GovukForm):
    kind = forms.ChoiceField(
        choices=NegotiationStep.Kind.choices, widget=forms.RadioSelect, label="What is this step?",
        error_messages={"required": "Select what this step is"},
    )
    weekly_price = forms.CharField(
        label="Weekly price (£)", help_text=PRICE_HINT,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-10",
                                      "spellcheck": "false"}),
        error_messages={"required": "Enter the weekly price"},
    )
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Note (optional)"
    )

    def clean_weekly_price(self):
        return _price_text(self.cleaned_data["weekly_price"])


class InviteForm(GovukForm):
    service = forms.ModelChoiceField(
        queryset=None, label="Service", empty_label="Choose a service",
        error_messages={"required": "Choose a service to invite"},
    )
    off_framework_reason = forms.CharField(
        required=False, max_length=300, label="Reason for inviting an off-framework service",
        help_text="Needed when the service is not on a framework for this placement type.",
    )

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["service"].label_from_instance = lambda s: f"{s.provider.name}: {s.name}"
