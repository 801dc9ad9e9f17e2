"""Forms for the provider directory pages. They check that the answers are complete and
well formed; the rules (ages, vacancies, unique URNs, rates that already exist) belong to
providers.services.catalogue, whose refusals the views show on the named field."""

from django import forms

from core.forms import DateInput, GovukForm, GovukModelForm
from providers.models import Framework, Provider, ProviderDiscount
from providers.reference import Need, OfstedRating, PlacementType, Risk

SERVICE_FIELDS = [
    "name", "ofsted_urn", "ofsted_rating", "ofsted_inspection_date", "postcode",
    "local_authority_area", "min_age", "max_age", "places", "vacancies", "is_active",
]


def whole_number(label: str, *, min_value=0, max_value=None, **kwargs) -> forms.IntegerField:
    """An integer field whose messages say what to do, GOV.UK style."""
    name = f"{label[0].lower()}{label[1:]}"
    messages = {
        "required": f"Enter {name}",
        "invalid": f"Enter {name} as a whole number",
        "min_value": f"{label} must be {min_value} or more",
        "max_value": f"{label} must be {max_value} or less",
    }
    return forms.IntegerField(
        label=label, min_value=min_value, max_value=max_value, error_messages=messages, **kwargs
    )


def real_date(label: str, *, error_messages=None, **kwargs) -> forms.DateField:
    messages = {"invalid": "Enter a real date, for example 1 April 2026", **(error_messages or {})}
    return forms.DateField(label=label, widget=DateInput, error_messages=messages, **kwargs)


def checkboxes(choices, *, label: str, **kwargs) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices, widget=forms.CheckboxSelectMultiple, label=label, **kwargs
    )


class ProviderForm(GovukModelForm):
    class Meta:
        model = Provider
        fields = ["name", "kind", "place_provider", "email", "phone", "is_active"]
        labels = {
            "name": "Provider name",
            "kind": "Kind of provider",
            "place_provider": "SSDA903 provider code",
            "email": "Email address for sourcing requests (optional)",
            "phone": "Phone number (optional)",
            "is_active": "Active: show this provider's services in the directory",
        }
        help_texts = {
            "place_provider": "The PLACE_PROVIDER code the statutory return uses.",
            "email": "Sourcing requests are sent here.",
        }
        error_messages = {
            "name": {"unique": "A provider with this name is already in the directory"},
            "kind": {"required": "Select the kind of provider"},
            "place_provider": {"required": "Select the SSDA903 provider code"},
            "email": {"invalid": "Enter an email address in the correct format, "
                                 "like name@example.com"},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("kind", "place_provider"):
            self.fields[name].choices = [("", "Choose one")] + list(self.fields[name].choices)[1:]


class ServiceForm(GovukForm):
    name = forms.CharField(max_length=200, label="Service name",
                           error_messages={"required": "Enter the service name"})
    ofsted_urn = forms.CharField(
        max_length=10, required=False, label="Ofsted URN (optional)",
        help_text="The unique reference number Ofsted gives the service, for example SC123456.",
    )
    ofsted_rating = forms.ChoiceField(
        choices=OfstedRating.choices, initial=OfstedRating.NOT_YET_INSPECTED,
        label="Latest Ofsted rating",
    )
    ofsted_inspection_date = real_date("Date of the latest Ofsted inspection (optional)",
                                       required=False)
    postcode = forms.CharField(
        max_length=10, label="Postcode",
        help_text="Distances are measured from the centre of its postcode district, "
        "for example LS6 2AB.",
        error_messages={"required": "Enter the service's postcode",
                        "max_length": "Enter a real postcode, like LS6 2AB"},
    )
    local_authority_area = forms.CharField(
        max_length=100, required=False, label="Local authority area (optional)"
    )
    min_age = whole_number("Youngest age accepted", max_value=25, initial=0)
    max_age = whole_number("Oldest age accepted", max_value=25, initial=17)
    places = whole_number("Places", max_value=999, initial=1,
                          help_text="How many children the service can look after.")
    vacancies = whole_number("Vacancies", max_value=999, initial=0,
                             help_text="Places free now.")
    is_active = forms.BooleanField(
        required=False, initial=True,
        label="Active: show this service in the directory and in matching",
    )
    placement_types = checkboxes(
        PlacementType.choices, label="Placement types offered",
        error_messages={"required": "Select the placement types this service offers"},
    )
    needs = checkboxes(Need.choices, label="Needs accepted", required=False,
                       help_text="Select all that apply.")
    excluded_risks = checkboxes(
        Risk.choices, label="Risks not accepted", required=False,
        help_text="Matching leaves the service out for a child with any of these risks.",
    )

    @classmethod
    def initial_for(cls, service) -> dict:
        initial = {name: getattr(service, name) for name in SERVICE_FIELDS}
        initial["placement_types"] = [row.placement_type for row in service.placement_types.all()]
        initial["needs"] = [row.need for row in service.needs_accepted.all()]
        initial["excluded_risks"] = [row.risk for row in service.risks_excluded.all()]
        return initial

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in SERVICE_FIELDS}


class DiscountForm(GovukForm):
    basis = forms.ChoiceField(
        choices=ProviderDiscount.Basis.choices, widget=forms.RadioSelect,
        label="What the discount depends on",
        error_messages={"required": "Choose what the discount depends on"},
    )
    description = forms.CharField(
        max_length=300, label="Terms of the discount",
        help_text="For example, 5% off every placement after the third at once.",
        error_messages={"required": "Enter the terms of the discount"},
    )
    percentage = forms.DecimalField(
        max_digits=5, decimal_places=2, label="Discount (%)",
        error_messages={
            "required": "Enter the discount as a percentage",
            "invalid": "Enter the discount as a number, like 5 or 2.5",
            "max_decimal_places": "Enter the discount to no more than 2 decimal places",
            "max_digits": "The discount must be more than 0%% and at most 100%%",
            "max_whole_digits": "The discount must be more than 0%% and at most 100%%",
        },
    )
    valid_from = real_date("Valid from",
                           error_messages={"required": "Enter the date the discount starts"})
    valid_to = real_date("Valid until (optional)", required=False,
                         help_text="Leave empty if it has no end date yet.")

    def clean_percentage(self):
        value = self.cleaned_data["percentage"]
        if not 0 < value <= 100:
            raise forms.ValidationError("The discount must be more than 0% and at most 100%")
        return value


class DiscountEndForm(GovukForm):
    valid_to = real_date(
        "Last day of the discount",
        error_messages={"required": "Enter the last day of the discount",
                        "invalid": "Enter a real date, for example 31 March 2027"},
    )


def applies_to_choices(framework: Framework) -> list:
    """Grouped options: the framework's lots, then its member providers (a provider's own
    rate overrides its lot's)."""
    lots = [(f"lot:{lot.pk}", str(lot)) for lot in framework.lots.all()]
    members = Provider.objects.filter(framework_memberships__framework=framework).distinct()
    providers = [(f"provider:{provider.pk}", provider.name) for provider in members]
    choices = [("", "Choose a lot or a provider")]
    if lots:
        choices.append(("Lots", lots))
    if providers:
        choices.append(("Member providers", providers))
    return choices


class FrameworkRateForm(GovukForm):
    applies_to = forms.ChoiceField(
        label="Lot or provider",
        help_text="A provider's own rate overrides its lot's rate.",
        error_messages={"required": "Choose the lot or provider the rate applies to"},
    )
    placement_type = forms.ChoiceField(
        choices=[("", "Choose a placement type")] + list(PlacementType.choices),
        label="Placement type",
        error_messages={"required": "Select the placement type"},
    )
    financial_year = whole_number(
        "Financial year", min_value=2000, max_value=2100,
        help_text="The year it starts in: 2026 means 1 April 2026 to 31 March 2027.",
    )
    ceiling_weekly_price = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, label="Ceiling weekly price (£)",
        error_messages={
            "required": "Enter the ceiling weekly price",
            "invalid": "Enter the price in pounds and pence, like 850.00",
            "min_value": "The ceiling weekly price cannot be negative",
            "max_decimal_places": "Enter the price in pounds and pence, like 850.00",
            "max_digits": "Enter a price under £10,000,000,000",
            "max_whole_digits": "Enter a price under £10,000,000,000",
        },
    )

    def __init__(self, *args, framework: Framework, **kwargs):
        super().__init__(*args, **kwargs)
        self.framework = framework
        self.fields["applies_to"].choices = applies_to_choices(framework)

    def clean_applies_to(self):
        kind, _, pk = self.cleaned_data["applies_to"].partition(":")
        if kind == "lot":
            lot = self.framework.lots.filter(pk=pk).first()
            if lot:
                return {"lot": lot}
        elif kind == "provider":
            provider = Provider.objects.filter(
                pk=pk, framework_memberships__framework=self.framework
            ).first()
            if provider:
                return {"provider": provider}
        raise forms.ValidationError("Choose the lot or provider the rate applies to")


class UpliftForm(GovukForm):
    from_year = whole_number(
        "Financial year to uplift from", min_value=2000, max_value=2099,
        help_text="Every rate of this year is copied to the next year with the uplift. "
        "2026 means 2026/27.",
    )
    percentage = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, label="Uplift (%)",
        help_text="For example, 3.5 for a 3.5% increase.",
        error_messages={
            "required": "Enter the uplift as a percentage",
            "invalid": "Enter the uplift as a number, like 3 or 3.5",
            # These messages are %-formatted with the limit, so a percent sign is doubled.
            "min_value": "The uplift must be between 0%% and 100%%",
            "max_value": "The uplift must be between 0%% and 100%%",
            "max_decimal_places": "Enter the uplift to no more than 2 decimal places",
            "max_digits": "The uplift must be between 0%% and 100%%",
            "max_whole_digits": "The uplift must be between 0%% and 100%%",
        },
    )


class CsvUploadForm(GovukForm):
    file = forms.FileField(
        label="CSV file",
        error_messages={"required": "Choose a CSV file to upload",
                        "empty": "The file you chose is empty"},
    )

    def __init__(self, *args, columns: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"Columns: {columns}."
