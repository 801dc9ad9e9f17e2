"""One way to render fields: every kind of control gets GOV.UK markup, and the ids that
aria-describedby points at exist in the page."""

import re

from django import forms

from core.forms import GovukForm


class ExampleForm(GovukForm):
    name = forms.CharField(help_text="As on the child's record.")
    notes = forms.CharField(widget=forms.Textarea, required=False)
    urgency = forms.ChoiceField(choices=[("today", "Today"), ("later", "Later")])
    suitability = forms.ChoiceField(
        choices=[("a", "Preferred"), ("b", "Suitable"), ("c", "Unsuitable")],
        widget=forms.RadioSelect,
    )
    risks = forms.MultipleChoiceField(
        choices=[("x", "Self-harm"), ("y", "Going missing")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    within_20_miles = forms.BooleanField(required=False, label="Must be within 20 miles")


def described_ids(html):
    return {i for attr in re.findall(r'aria-describedby="([^"]+)"', html) for i in attr.split()}


def test_unbound_form_has_govuk_classes_for_each_control():
    html = str(ExampleForm())
    assert 'class="govuk-input"' in html
    assert 'class="govuk-textarea"' in html
    assert 'class="govuk-select"' in html
    assert html.count('class="govuk-radios__input"') == 3
    assert html.count('class="govuk-checkboxes__input"') == 3  # two risks + the boolean
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">Suitability' in html
    assert 'id="id_name_helptext" class="govuk-hint"' in html


def test_errors_mark_the_group_and_the_control_and_are_described():
    form = ExampleForm(data={"name": "", "urgency": "never"})
    assert not form.is_valid()
    html = str(form)
    assert html.count("govuk-form-group--error") == 3  # name, urgency, suitability
    assert 'class="govuk-input govuk-input--error"' in html
    assert 'class="govuk-select govuk-select--error"' in html
    for element_id in described_ids(html):
        assert f'id="{element_id}"' in html, f"aria-describedby points at missing {element_id}"
    assert 'id="id_name_error"' in html
    assert 'id="id_suitability_error"' in html


def test_required_fields_say_what_to_do():
    errors = ExampleForm(data={}).errors
    assert errors["name"] == ["Enter name"]
    assert errors["urgency"] == ["Select urgency"]
    assert errors["suitability"] == ["Select suitability"]


def test_a_question_label_is_quoted_in_its_required_message():
    class QuestionForm(GovukForm):
        start = forms.DateField(label="When should the placement start?")

    assert QuestionForm(data={}).errors["start"] == [
        "Answer the question: When should the placement start?"
    ]
