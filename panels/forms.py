from django import forms

from core.forms import DateInput, GovukForm
from panels.models import AgendaItem, Decision
from panels.services import OUTCOMES_BY_KIND


class DecisionForm(GovukForm):
    outcome = forms.ChoiceField(widget=forms.RadioSelect, label="Decision")
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Rationale")
    conditions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Conditions"
    )
    review_date = forms.DateField(widget=DateInput, required=False, label="Review date")
    estimated_weekly_cost = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False,
        label="Expected weekly cost (£)",
        help_text="If known. Above the Director's threshold, the Director must approve.",
    )
    out_of_area = forms.BooleanField(
        required=False, label="The placement may be outside the council's area"
    )

    def __init__(self, *args, item: AgendaItem, correcting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [
            (outcome, Decision.Outcome(outcome).label) for outcome in OUTCOMES_BY_KIND[item.kind]
        ]
        self.fields["outcome"].error_messages["required"] = "Choose the panel's decision"
        self.fields["rationale"].error_messages["required"] = "Enter the panel's rationale"
        if item.kind == AgendaItem.Kind.HIGH_COST_REVIEW:
            self.fields["review_date"].required = True
            self.fields["review_date"].error_messages["required"] = (
                "Enter when the placement will be reviewed again"
            )
        # Cost and area decide the Director's part, which a correction does not reopen.
        if correcting or item.kind != AgendaItem.Kind.REFERRAL:
            del self.fields["estimated_weekly_cost"]
            del self.fields["out_of_area"]


class DirectorDecisionForm(GovukForm):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("refuse", "Refuse")],
        widget=forms.RadioSelect,
        label="Your decision",
        error_messages={"required": "Choose approve or refuse"},
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label="Reason",
        help_text="Required when you refuse.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "refuse" and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Enter the reason for refusing")
        return cleaned
