"""Forms for the referral question pages. They hold no business rules: the services do."""

from django import forms

from core.forms import DateInput, GovukForm, GovukModelForm
from placements.models import NEEDS_QUESTIONS, PLACEMENT_QUESTIONS, Child, Referral
from providers.reference import RISKS_TO_CHILD, RISKS_TO_OTHERS, PlacementType

# Primary keys are 64-bit: a larger number cannot name a row, and handing it to the
# database fails (SQLite: OverflowError; PostgreSQL: out of range) instead of refusing it.
MAX_ID = 2**63 - 1


class ChildrenField(forms.ModelMultipleChoiceField):
    """Children chosen by ID, where an ID that is not a whole number the database can hold
    is refused as invalid (a form error) before any query is made."""

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple) else ():
            if not (str(pk).isascii() and str(pk).isdigit()) or int(pk) > MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class ReferralPlacementForm(GovukModelForm):
    """Section 1: what is sought."""

    class Meta:
        model = Referral
        fields = [*PLACEMENT_QUESTIONS, "siblings"]
        widgets = {
            "wanted_start_date": DateInput,
            "urgency": forms.RadioSelect,
            "suitability_foster": forms.RadioSelect,
            "suitability_residential": forms.RadioSelect,
            "suitability_supported": forms.RadioSelect,
            "siblings": forms.CheckboxSelectMultiple,
        }
        field_classes = {"siblings": ChildrenField}
        labels = {
            "is_emergency": "This is an emergency: the child needs a bed today",
            "placement_type_sought": "Placement type sought",
            "wanted_start_date": "When should the placement start?",
            "must_be_within_20_miles": "The placement must be within 20 miles of home",
            "siblings": "Siblings to place with the child",
        }
        error_messages = {
            "placement_type_sought": {"required": "Select the placement type sought"},
            "wanted_start_date": {
                "required": "Enter the date the placement should start",
                "invalid": "Enter a real date, for example 20 January 2027",
            },
        }
        help_texts = {
            "is_emergency": "Emergencies skip endorsement and panel, go straight to sourcing, "
            "and come to panel afterwards.",
            "preferred_location": "For example, a town or an area the child should stay near.",
        }

    def __init__(self, *args, child: Child, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["placement_type_sought"].choices = [("", "Choose a placement type")] + [
            choice for choice in PlacementType.choices
        ]
        # Any other child of the team: half-siblings and step-siblings often have another
        # surname. Who may be a sibling is for the service to decide, not this list.
        self.fields["siblings"].queryset = (
            Child.objects.filter(team_id=child.team_id)
            .exclude(pk=child.pk)
            .order_by("last_name", "first_name", "pk")
        )
        self.fields["siblings"].help_text = (
            "Children on your team's caseload. Leave empty if none."
        )


class ReferralNeedsForm(GovukModelForm):
    """Section 2: the child's needs (Placements data standard)."""

    class Meta:
        model = Referral
        fields = list(NEEDS_QUESTIONS)
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in NEEDS_QUESTIONS
            if name != "deprivation_of_liberty_order"
        }
        labels = {
            "needs_summary": "Summary of the child's needs",
            "deprivation_of_liberty_order": "A deprivation of liberty order applies",
        }


class ReferralRisksForm(GovukForm):
    """Section 3: risks to the child and to others."""

    risks_to_child = forms.MultipleChoiceField(
        choices=[(risk.value, risk.label) for risk in RISKS_TO_CHILD],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Risks to the child",
        help_text="Select all that apply.",
    )
    risks_to_others = forms.MultipleChoiceField(
        choices=[(risk.value, risk.label) for risk in RISKS_TO_OTHERS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Risks to others",
        help_text="Select all that apply.",
    )
    risk_details = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="What providers need to know about these risks",
    )

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("risks_to_child", []) + cleaned.get("risks_to_others", [])
        if chosen and not cleaned.get("risk_details", "").strip():
            self.add_error("risk_details", "Describe the risks you selected.")
        return cleaned

    def risks(self) -> dict[str, str]:
        chosen = self.cleaned_data["risks_to_child"] + self.cleaned_data["risks_to_others"]
        return {risk: self.cleaned_data["risk_details"].strip() for risk in chosen}

    @classmethod
    def initial_for(cls, referral: Referral) -> dict:
        rows = list(referral.risks.all())
        codes = {row.risk for row in rows}
        return {
            "risks_to_child": [r.value for r in RISKS_TO_CHILD if r.value in codes],
            "risks_to_others": [r.value for r in RISKS_TO_OTHERS if r.value in codes],
            "risk_details": rows[0].details if rows else "",
        }


class ReasonForm(GovukForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Reason")

    def __init__(self, *args, label: str = "Reason", required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        self.fields["reason"].required = required
        if required:
            self.fields["reason"].error_messages["required"] = f"Enter {label[0].lower()}{label[1:]}"
