"""SSDA903 code lists the child's journey needs (the market's lists are in providers.reference)."""

from django.db import models


class Sex(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    UNKNOWN = "U", "Not known"


class LegalStatus(models.TextChoices):
    """SSDA903 LS."""

    C1 = "C1", "C1 – Interim care order"
    C2 = "C2", "C2 – Full care order"
    D1 = "D1", "D1 – Freeing order granted"
    E1 = "E1", "E1 – Placement order granted"
    V2 = "V2", "V2 – Accommodated under section 20 (single period)"
    V3 = "V3", "V3 – Short-term breaks (individual episodes)"
    V4 = "V4", "V4 – Short-term breaks (agreements recorded)"
    J1 = "J1", "J1 – Remanded to local authority or youth detention accommodation"
    J2 = "J2", "J2 – Placed in local authority accommodation under PACE"
    J3 = "J3", "J3 – Youth rehabilitation order with residence or fostering requirement"
    L1 = "L1", "L1 – Under police protection"
    L2 = "L2", "L2 – Emergency protection order"
    L3 = "L3", "L3 – Child assessment order"


class ReasonPlaceChange(models.TextChoices):
    """SSDA903 REASON_PLACE_CHANGE."""

    CARPL = "CARPL", "Change to or implementation of care plan"
    CLOSE = "CLOSE", "Resignation or closure of provision"
    ALLEG = "ALLEG", "Allegation (s47)"
    STAND = "STAND", "Standards of care concern"
    APPRR = "APPRR", "Approval removed"
    CREQB = "CREQB", "Carer requests end due to child's behaviour"
    CREQO = "CREQO", "Carer requests end, other reasons"
    CHILD = "CHILD", "Child requests end"
    LAREQ = "LAREQ", "Responsible or area authority requests end"
    PLACE = "PLACE", "Change in the status of a placement only"
    CUSTOD = "CUSTOD", "Custody"
    OTHER = "OTHER", "Other"


class Ethnicity(models.TextChoices):
    """SSDA903 ETHNIC."""

    WBRI = "WBRI", "White British"
    WIRI = "WIRI", "White Irish"
    WIRT = "WIRT", "Traveller of Irish heritage"
    WROM = "WROM", "Gypsy/Roma"
    WOTH = "WOTH", "Any other White background"
    MWBC = "MWBC", "White and Black Caribbean"
    MWBA = "MWBA", "White and Black African"
    MWAS = "MWAS", "White and Asian"
    MOTH = "MOTH", "Any other mixed background"
    AIND = "AIND", "Indian"
    APKN = "APKN", "Pakistani"
    ABAN = "ABAN", "Bangladeshi"
    AOTH = "AOTH", "Any other Asian background"
    BCRB = "BCRB", "Caribbean"
    BAFR = "BAFR", "African"
    BOTH = "BOTH", "Any other Black background"
    CHNE = "CHNE", "Chinese"
    OOTH = "OOTH", "Any other ethnic group"
    REFU = "REFU", "Refused"
    NOBT = "NOBT", "Information not yet obtained"


class Suitability(models.TextChoices):
    PREFERRED = "preferred", "Preferred"
    SUITABLE = "suitable", "Suitable"
    UNSUITABLE = "unsuitable", "Unsuitable"
    NOT_SPECIFIED = "not_specified", "Not specified"
