"""One way to render form fields in GOV.UK Design System markup.

Forms subclass GovukForm or GovukModelForm; each field renders through
templates/govuk/field.html and the page shows templates/govuk/error_summary.html.
"""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.forms.boundfield import BoundField
from django.forms.utils import pretty_name
from django.forms.widgets import Input

from core.errors import DomainError, InvalidInput

# Widget class → (GOV.UK class for the control, modifier added when the field has errors).
# First match wins, so subclasses come before their parents (CheckboxSelectMultiple is a
# RadioSelect in Django).
_CONTROL_CLASSES = {
    forms.Textarea: ("govuk-textarea", "govuk-textarea--error"),
    forms.CheckboxSelectMultiple: ("govuk-checkboxes__input", ""),
    forms.RadioSelect: ("govuk-radios__input", ""),
    forms.Select: ("govuk-select", "govuk-select--error"),
    forms.CheckboxInput: ("govuk-checkboxes__input", ""),
    Input: ("govuk-input", "govuk-input--error"),
}


def govuk_control_classes(widget: forms.Widget, *, has_errors: bool) -> str:
    for widget_class, (base, error_modifier) in _CONTROL_CLASSES.items():
        if isinstance(widget, widget_class):
            return f"{base} {error_modifier}".strip() if has_errors else base
    return ""


class GovukBoundField(BoundField):
    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        classes = govuk_control_classes(widget, has_errors=bool(self.errors))
        existing = widget.attrs.get("class", "")
        attrs["class"] = f"{classes} {existing}".strip()
        return attrs

    @property
    def govuk_kind(self) -> str:
        """Which GOV.UK pattern the field template uses for this field."""
        widget = self.field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            return "checkboxes"
        if isinstance(widget, forms.RadioSelect):
            return "radios"
        if isinstance(widget, forms.CheckboxInput):
            return "checkbox"
        return "control"

    @property
    def govuk_small(self) -> bool:
        """Long lists of radios or checkboxes use the small variant (e.g. filters)."""
        return len(getattr(self.field, "choices", ())) > 6

    def as_field_group(self):
        return self.render(template_name="govuk/field.html")


class DateInput(forms.DateInput):
    """The browser's date picker; submits ISO dates, and must be given them back (a saved
    date in the locale's format would show as blank)."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):
        super().__init__(attrs=attrs, format=format)


def required_message(field: forms.Field, name: str) -> str:
    """GOV.UK says what to do, not "This field is required"."""
    label = str(field.label or pretty_name(name))
    if label.endswith("?"):
        return f"Answer the question: {label}"
    verb = "Select" if isinstance(field, forms.ChoiceField) else "Enter"
    return f"{verb} {label[0].lower()}{label[1:]}"


class GovukFormMixin:
    bound_field_class = GovukBoundField
    template_name = "govuk/form.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = forms.Field.default_error_messages["required"]
        for name, field in self.fields.items():
            if field.error_messages.get("required") == default:
                field.error_messages["required"] = required_message(field, name)


class GovukForm(GovukFormMixin, forms.Form):
    pass


class GovukModelForm(GovukFormMixin, forms.ModelForm):
    pass


class GovukAuthenticationForm(GovukFormMixin, AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"


def show_domain_error(form: forms.Form, error: DomainError) -> None:
    """Put a service's refusal where the person will see it: on the field it names, or in
    the error summary at the top of the form."""
    field = error.field if isinstance(error, InvalidInput) and error.field in form.fields else None
    form.add_error(field, error.message)
