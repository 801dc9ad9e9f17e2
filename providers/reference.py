"""Reference data shared by every layer, so it lives in the lowest one.

Code lists follow the DfE SSDA903 (children looked after) return for 2025/26 so that our
data can feed the statutory return without translation.
"""

import datetime

from django.db import models


class PlacementType(models.TextChoices):
    """SSDA903 PLACE."""

    A3 = "A3", "A3 – Placed for adoption with consent, with current foster carer"
    A4 = "A4", "A4 – Placed for adoption with consent, not with current foster carer"
    A5 = "A5", "A5 – Placed for adoption with placement order, with current foster carer"
    A6 = "A6", "A6 – Placed for adoption with placement order, not with current foster carer"
    K1 = "K1", "K1 – Secure children's home"
    K2 = "K2", "K2 – Children's home"
    K3 = "K3", "K3 – Supported accommodation (registered)"
    P1 = "P1", "P1 – Placed with own parent(s) or person(s) with parental responsibility"
    P3 = "P3", "P3 – Residential employment"
    R1 = "R1", "R1 – Residential care home"
    R2 = "R2", "R2 – NHS, health trust or other medical or nursing care establishment"
    R3 = "R3", "R3 – Family centre or mother and baby unit"
    R5 = "R5", "R5 – Young offender institution or prison"
    S1 = "S1", "S1 – Residential school (not dual-registered as a children's home)"
    T0 = "T0", "T0 – Temporary placement"
    T1 = "T1", "T1 – Temporary placement: hospital"
    T2 = "T2", "T2 – Temporary placement: holiday"
    T3 = "T3", "T3 – Temporary placement: while foster carer is on holiday"
    T4 = "T4", "T4 – Temporary placement: seven days or less, other reasons"
    U1 = "U1", "U1 – Foster, relative or friend: long-term"
    U2 = "U2", "U2 – Foster, relative or friend who is an approved adopter"
    U3 = "U3", "U3 – Foster, relative or friend: not long-term"
    U4 = "U4", "U4 – Foster, other carer: long-term"
    U5 = "U5", "U5 – Foster, other carer who is an approved adopter"
    U6 = "U6", "U6 – Foster, other carer: not long-term"
    Z11 = "Z11", "Z11 – Other placement"
    Z12 = "Z12", "Z12 – Other placement"
    Z13 = "Z13", "Z13 – Other placement"
    Z14 = "Z14", "Z14 – Other placement"


FOSTERING_TYPES = frozenset({"U1", "U2", "U3", "U4", "U5", "U6"})
RESIDENTIAL_TYPES = frozenset({"K1", "K2", "R1", "S1"})
# SSDA903 leaves PLACE_PROVIDER blank for temporary and "other" placements.
TYPES_WITHOUT_PROVIDER_CODE = frozenset({"T0", "T1", "T2", "T3", "T4", "Z11", "Z12", "Z13", "Z14"})


class PlaceProvider(models.TextChoices):
    """SSDA903 PLACE_PROVIDER."""

    PR0 = "PR0", "PR0 – Parent(s) or other person with parental responsibility"
    PR1 = "PR1", "PR1 – Own provision (by the council)"
    PR2 = "PR2", "PR2 – Other local authority provision"
    PR3 = "PR3", "PR3 – Other public provision (e.g. health)"
    PR4 = "PR4", "PR4 – Private provision"
    PR5 = "PR5", "PR5 – Voluntary or third sector provision"


class ProviderKind(models.TextChoices):
    IN_HOUSE = "in_house", "In-house (the council)"
    IFA = "ifa", "Independent fostering agency"
    CHILDRENS_HOME = "childrens_home", "Private or voluntary children's home"
    SECURE = "secure", "Secure children's home"
    SUPPORTED_ACCOMMODATION = "supported", "Supported accommodation"
    RESIDENTIAL_SCHOOL = "residential_school", "Residential school"


class OfstedRating(models.TextChoices):
    OUTSTANDING = "outstanding", "Outstanding"
    GOOD = "good", "Good"
    REQUIRES_IMPROVEMENT = "requires_improvement", "Requires improvement to be good"
    INADEQUATE = "inadequate", "Inadequate"
    NOT_YET_INSPECTED = "not_inspected", "Not yet inspected"


class Urgency(models.TextChoices):
    """From the draft national Placements data standard."""

    TODAY = "today", "Today"
    WITHIN_5_DAYS = "within_5_days", "Within 5 days"
    LATER = "later", "Later"


class Risk(models.TextChoices):
    """Risks to the child and risks to others, as the Placements data standard lists them."""

    SELF_HARM = "self_harm", "Self-harm"
    SEXUAL_EXPLOITATION = "sexual_exploitation", "Child sexual exploitation"
    CRIMINAL_EXPLOITATION = "criminal_exploitation", "Child criminal exploitation"
    DRUGS_ALCOHOL = "drugs_alcohol", "Drugs and alcohol"
    EATING_DISORDER = "eating_disorder", "Eating disorder"
    GOING_MISSING = "going_missing", "Going missing"
    OTHER_TO_CHILD = "other_to_child", "Other risk to the child"
    PHYSICAL_HARM = "physical_harm", "Physical harm to others"
    SEXUAL_HARM = "sexual_harm", "Sexual harm to others"
    FIRE_SETTING = "fire_setting", "Fire-setting"
    HARM_TO_ANIMALS = "harm_to_animals", "Harm to animals"
    CRIMINAL_EXPLOITATION_OF_OTHERS = "exploiting_others", "Criminal exploitation of others"
    OTHER_TO_OTHERS = "other_to_others", "Other risk to others"


RISKS_TO_CHILD = (
    Risk.SELF_HARM,
    Risk.SEXUAL_EXPLOITATION,
    Risk.CRIMINAL_EXPLOITATION,
    Risk.DRUGS_ALCOHOL,
    Risk.EATING_DISORDER,
    Risk.GOING_MISSING,
    Risk.OTHER_TO_CHILD,
)
RISKS_TO_OTHERS = tuple(risk for risk in Risk if risk not in RISKS_TO_CHILD)


class Need(models.TextChoices):
    """Needs a service may accept; a referral's needs are matched against them."""

    EMOTIONAL_BEHAVIOURAL = "emotional_behavioural", "Emotional and behavioural difficulties"
    MENTAL_HEALTH = "mental_health", "Mental health"
    LEARNING_DISABILITY = "learning_disability", "Learning disability"
    AUTISM = "autism", "Autism"
    PHYSICAL_DISABILITY = "physical_disability", "Physical disability"
    COMPLEX_HEALTH = "complex_health", "Complex health needs"
    PARENT_AND_CHILD = "parent_and_child", "Parent and child"
    UNACCOMPANIED_ASYLUM = "unaccompanied_asylum", "Unaccompanied asylum-seeking child"


def financial_year_start(day: datetime.date) -> int:
    """The calendar year in which the financial year holding `day` began (1 April – 31 March)."""
    return day.year if day >= datetime.date(day.year, 4, 1) else day.year - 1


def financial_year_bounds(start_year: int) -> tuple[datetime.date, datetime.date]:
    """First and last day of the financial year that starts on 1 April of start_year."""
    return datetime.date(start_year, 4, 1), datetime.date(start_year + 1, 3, 31)


def financial_year_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"
