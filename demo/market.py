"""The placement market around Demoshire: about 60 providers and their Ofsted-registered
services. Providers are keyed on name and services on (provider, name), so a second run
finds them instead of adding more."""

import dataclasses
import datetime
import random
from decimal import Decimal

from demo import pricing
from demo.clock import DemoCalendar
from providers.models import (
    Provider,
    Service,
    ServiceNeed,
    ServicePlacementType,
    ServiceRiskExclusion,
)
from providers.reference import Need, OfstedRating, PlaceProvider, ProviderKind, Risk

HOME_AREA = "Demoshire"
# Postcode prefix, district range and plausible distance in miles from a Demoshire home.
# The prefixes are invented ("Q" never starts a real UK postcode, nor does "DM").
AREAS = {
    "Demoshire": ("DM", 24, (1, 18)),
    "Calderfield": ("QC", 12, (12, 30)),
    "Kirkmoor": ("QK", 9, (18, 45)),
    "Wyvern": ("QW", 15, (35, 90)),
    "Southmoor": ("QS", 20, (80, 190)),
}
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# Which framework lot buys which placement type.
LOT_FOR_TYPE = {"U4": 1, "U5": 1, "U6": 1, "K2": 2, "K3": 3}

IN_HOUSE_PROVIDER = "Demoshire County Council"
IN_HOUSE_FOSTERING_SERVICE = "Demoshire Fostering Service"
IN_HOUSE_HOMES = (("Larch House", 8), ("Millbrook House", 11), ("The Willows", 10))
IFA_STEMS = (
    "Brightwater", "Harbour Lights", "Kindred Hearth", "Meadowbank", "North Star",
    "Oaktree", "Open Door", "Riverside", "Safe Haven", "Shoreline", "Silverbirch",
    "Springwell", "Stepping Stones", "Sunrise", "Thistledown", "Together", "Waymark",
    "Welcome Home", "Willowbrook", "Wren", "Yarrow", "Foxglove",
)
HOME_STEMS = (
    "Ashdown", "Beacon", "Bramble", "Castlegate", "Cedar Lodge", "Clearwater",
    "Cornerstone", "Evergreen", "Fellside", "Greystones", "Heathfield", "Hollybank",
    "Juniper", "Lakeside", "Larkspur", "Millstone", "Moorview", "Pennine Edge",
    "Quarry Hill", "Redwood", "Rowan Tree", "Stonebridge", "Thornfield", "Valley View",
)
HOUSE_NAMES = tuple(
    f"{tree} {kind}"
    for tree in ("Ash", "Beech", "Birch", "Elm", "Hazel", "Holly", "Ivy", "Laurel", "Maple",
                 "Oak", "Pine", "Rowan", "Yew", "Alder", "Linden", "Poplar", "Cherry",
                 "Hawthorn", "Sycamore", "Chestnut")
    for kind in ("House", "Lodge", "Cottage")
)
SUPPORTED_PROVIDERS = (
    "Next Steps Housing", "Launchpad Supported Living", "Keystone Futures",
    "Bridgeway Housing", "Horizon Young People's Services", "Anchor Point Housing",
    "Pathways Supported Lodgings",
)
SECURE_PROVIDERS = (
    ("Calderfield Council Secure Services", "Moorgate Secure Children's Home", "Calderfield",
     PlaceProvider.PR2),
    ("St Aldhelm's Trust", "St Aldhelm's Secure Centre", "Wyvern", PlaceProvider.PR5),
)
SCHOOL_PROVIDERS = ("Greenholme School", "Ridgeway College", "Fernhill Residential School")

FOSTERING_EXCLUSIONS = (Risk.FIRE_SETTING, Risk.SEXUAL_HARM, Risk.HARM_TO_ANIMALS)
HOME_EXCLUSIONS = (Risk.SEXUAL_HARM, Risk.FIRE_SETTING, Risk.CRIMINAL_EXPLOITATION_OF_OTHERS)


@dataclasses.dataclass
class ServiceSpec:
    name: str
    placement_types: tuple[str, ...]
    min_age: int
    max_age: int
    places: int
    vacancies: int
    area: str
    needs: tuple[str, ...] = ()
    risks_excluded: tuple[str, ...] = ()
    rating: str = OfstedRating.GOOD
    offer: str = ""  # when it differs from the provider's (the council runs two kinds)


@dataclasses.dataclass
class ProviderSpec:
    name: str
    kind: str
    place_provider: str
    offer: str
    services: list[ServiceSpec]


@dataclasses.dataclass
class Market:
    """The services a placement can be made with, by offer (see pricing), plus the
    framework terms that placements and quotes are priced against, and where each postcode
    district's centre is (see geography), for distances."""

    services: dict[str, list[Service]]
    centres: dict[str, tuple[Decimal, Decimal]] = dataclasses.field(default_factory=dict)
    risks_excluded: dict[int, set[str]] = dataclasses.field(default_factory=dict)
    members: dict[int, set[int]] = dataclasses.field(default_factory=dict)
    lot_ceilings: dict[tuple[int, str, int], Decimal] = dataclasses.field(default_factory=dict)
    provider_ceilings: dict[tuple[int, str, int], Decimal] = dataclasses.field(
        default_factory=dict
    )

    def is_on_framework(self, service: Service, placement_type: str) -> bool:
        lot = LOT_FOR_TYPE.get(placement_type)
        return lot is not None and lot in self.members.get(service.provider_id, set())

    def ceiling(self, service: Service, placement_type: str, year: int):
        """The framework's ceiling weekly price for this service, type and year, if any."""
        if not self.is_on_framework(service, placement_type):
            return None
        own = self.provider_ceilings.get((service.provider_id, placement_type, year))
        return own or self.lot_ceilings.get((LOT_FOR_TYPE[placement_type], placement_type, year))

    def all_services(self) -> list[Service]:
        return [service for services in self.services.values() for service in services]

    def can_take(self, service: Service, *, age: int, risks) -> bool:
        """Whether the service is registered for the age and excludes none of the risks."""
        return (service.min_age <= age <= service.max_age
                and not self.risks_excluded.get(service.pk, set()) & set(risks))

    def pick_service(self, rng: random.Random, *, offer: str, age: int) -> Service:
        candidates = self.services[offer]
        fitting = [s for s in candidates if s.min_age <= age <= s.max_age]
        return rng.choice(fitting or candidates)


def seed_market(*, calendar: DemoCalendar) -> Market:
    rng = random.Random("demoshire:market")  # nosec B311 # seeded: the demo county must be the same every run; not security
    urns = (f"SC{412345 + n * 3571:06d}" for n in range(1000))
    market = Market(services={})
    for spec in provider_specs(rng):
        provider, _created = Provider.objects.get_or_create(
            name=spec.name,
            defaults={
                "kind": spec.kind,
                "place_provider": spec.place_provider,
                "email": f"referrals@{slug(spec.name)}.example",
                "phone": f"01632 960{rng.randint(0, 999):03d}",
            },
        )
        for service_spec in spec.services:
            service = seed_service(
                provider=provider, spec=service_spec, urn=next(urns), rng=rng,
                today=calendar.today, market=market,
            )
            market.services.setdefault(service_spec.offer or spec.offer, []).append(service)
    return market


def seed_service(
    *, provider: Provider, spec: ServiceSpec, urn: str, rng: random.Random, today: datetime.date,
    market: Market,
) -> Service:
    prefix, districts, _miles = AREAS[spec.area]
    inspected = spec.rating != OfstedRating.NOT_YET_INSPECTED
    service, _created = Service.objects.get_or_create(
        provider=provider,
        name=spec.name,
        defaults={
            "ofsted_urn": urn,
            "ofsted_rating": spec.rating,
            "ofsted_inspection_date": today - datetime.timedelta(days=rng.randint(40, 1000))
            if inspected
            else None,
            "postcode": postcode(rng, prefix=prefix, districts=districts),
            "local_authority_area": spec.area,
            "min_age": spec.min_age,
            "max_age": spec.max_age,
            "places": spec.places,
            "vacancies": spec.vacancies,
        },
    )
    service.provider = provider  # spare a query per service later
    add_missing(ServicePlacementType, service, "placement_type", spec.placement_types)
    add_missing(ServiceNeed, service, "need", spec.needs)
    market.risks_excluded[service.pk] = add_missing(
        ServiceRiskExclusion, service, "risk", spec.risks_excluded
    )
    return service


def add_missing(model, service: Service, field: str, values) -> set[str]:
    """Add the values the service lacks; returns all it has now."""
    have = set(model.objects.filter(service=service).values_list(field, flat=True))
    model.objects.bulk_create(
        [
            model(service=service, **{field: value})
            for value in dict.fromkeys(values)
            if value not in have
        ]
    )
    return have | set(values)


def provider_specs(rng: random.Random) -> list[ProviderSpec]:
    house_names = list(HOUSE_NAMES)
    rng.shuffle(house_names)
    return [
        in_house_spec(),
        *(ifa_spec(rng, stem=stem, index=n) for n, stem in enumerate(IFA_STEMS)),
        *(home_spec(rng, stem=stem, index=n, house_names=house_names)
          for n, stem in enumerate(HOME_STEMS)),
        *(supported_spec(rng, name=name, index=n) for n, name in enumerate(SUPPORTED_PROVIDERS)),
        *(secure_spec(rng, provider=p, service=s, area=a, code=c)
          for p, s, a, c in SECURE_PROVIDERS),
        *(school_spec(rng, name=name, index=n) for n, name in enumerate(SCHOOL_PROVIDERS)),
    ]


def in_house_spec() -> ProviderSpec:
    fostering = ServiceSpec(
        name=IN_HOUSE_FOSTERING_SERVICE,
        placement_types=("U1", "U2", "U3", "U4", "U5", "U6"),
        min_age=0, max_age=17, places=240, vacancies=14, area=HOME_AREA,
        needs=(Need.EMOTIONAL_BEHAVIOURAL, Need.PARENT_AND_CHILD, Need.UNACCOMPANIED_ASYLUM),
        risks_excluded=(Risk.SEXUAL_HARM, Risk.FIRE_SETTING),
        offer=pricing.IN_HOUSE_FOSTERING,
    )
    homes = [
        ServiceSpec(
            name=name, placement_types=("K2",), min_age=min_age, max_age=17, places=4,
            vacancies=1, area=HOME_AREA, needs=(Need.EMOTIONAL_BEHAVIOURAL, Need.MENTAL_HEALTH),
            rating=OfstedRating.OUTSTANDING if name == "Larch House" else OfstedRating.GOOD,
            offer=pricing.IN_HOUSE_HOME,
        )
        for name, min_age in IN_HOUSE_HOMES
    ]
    return ProviderSpec(
        IN_HOUSE_PROVIDER, ProviderKind.IN_HOUSE, PlaceProvider.PR1, "in_house",
        [fostering, *homes],
    )


def ifa_spec(rng: random.Random, *, stem: str, index: int) -> ProviderSpec:
    # A few agencies are charities (PR5); the rest are private (PR4).
    charity = index % 6 == 5
    name = f"{stem} Family Placement Trust" if charity else f"{stem} Fostering"
    area = weighted(rng, {"Demoshire": 55, "Calderfield": 30, "Kirkmoor": 15})
    places = rng.randint(20, 90)
    service = ServiceSpec(
        name=f"{name} – {area} office",
        placement_types=("U4", "U5", "U6") if index % 4 == 0 else ("U4", "U6"),
        min_age=0, max_age=17, places=places, vacancies=rng.randint(0, 6), area=area,
        needs=(Need.EMOTIONAL_BEHAVIOURAL, *rng.sample(list(Need), k=rng.randint(1, 3))),
        risks_excluded=tuple(rng.sample(FOSTERING_EXCLUSIONS, k=rng.randint(1, 2))),
        rating=rating(rng),
    )
    code = PlaceProvider.PR5 if charity else PlaceProvider.PR4
    return ProviderSpec(name, ProviderKind.IFA, code, pricing.IFA, [service])


def home_spec(rng: random.Random, *, stem: str, index: int, house_names: list[str]) -> ProviderSpec:
    charity = index % 5 == 4
    name = f"{stem} Children's Trust" if charity else f"{stem} Children's Homes Ltd"
    homes = []
    for _n in range(rng.randint(1, 3)):
        places = rng.randint(2, 6)
        homes.append(
            ServiceSpec(
                name=house_names.pop(),
                placement_types=("K2",),
                min_age=rng.choice((8, 10, 11, 12)), max_age=17,
                places=places, vacancies=rng.randint(0, min(2, places)),
                area=weighted(rng, {"Demoshire": 45, "Calderfield": 20, "Kirkmoor": 15,
                                    "Wyvern": 12, "Southmoor": 8}),
                needs=(Need.EMOTIONAL_BEHAVIOURAL,
                       *rng.sample([Need.MENTAL_HEALTH, Need.AUTISM, Need.LEARNING_DISABILITY,
                                    Need.COMPLEX_HEALTH], k=rng.randint(1, 2))),
                risks_excluded=tuple(rng.sample(HOME_EXCLUSIONS, k=rng.randint(0, 2))),
                rating=rating(rng),
            )
        )
    code = PlaceProvider.PR5 if charity else PlaceProvider.PR4
    return ProviderSpec(name, ProviderKind.CHILDRENS_HOME, code, pricing.EXTERNAL_HOME, homes)


def supported_spec(rng: random.Random, *, name: str, index: int) -> ProviderSpec:
    places = rng.randint(8, 20)
    # Most are in the county, near the young people's schools, colleges and networks: the
    # shortlist for a 16-year-old who must stay within 20 miles always has a few.
    area = "Calderfield" if index % 3 == 2 else HOME_AREA
    # Ofsted only began registering supported accommodation in 2023: many are uninspected.
    service = ServiceSpec(
        name=f"{name} – Demoshire",
        placement_types=("K3",),
        min_age=16, max_age=17, places=places, vacancies=rng.randint(1, 4),
        area=area,
        needs=(Need.UNACCOMPANIED_ASYLUM,) if rng.random() < 0.5 else (),
        risks_excluded=(Risk.SEXUAL_HARM, Risk.FIRE_SETTING),
        rating=OfstedRating.NOT_YET_INSPECTED if rng.random() < 0.6 else OfstedRating.GOOD,
    )
    code = PlaceProvider.PR5 if "Housing" in name else PlaceProvider.PR4
    return ProviderSpec(name, ProviderKind.SUPPORTED_ACCOMMODATION, code, pricing.SUPPORTED,
                        [service])


def secure_spec(rng: random.Random, *, provider: str, service: str, area: str, code: str):
    places = rng.randint(8, 16)
    spec = ServiceSpec(
        name=service, placement_types=("K1",), min_age=10, max_age=17, places=places,
        vacancies=rng.randint(0, 1), area=area,
        needs=(Need.EMOTIONAL_BEHAVIOURAL, Need.MENTAL_HEALTH), rating=OfstedRating.GOOD,
    )
    return ProviderSpec(provider, ProviderKind.SECURE, code, pricing.SECURE, [spec])


def school_spec(rng: random.Random, *, name: str, index: int) -> ProviderSpec:
    places = rng.randint(20, 60)
    spec = ServiceSpec(
        name=f"{name} residential provision", placement_types=("S1",), min_age=8, max_age=19,
        places=places, vacancies=rng.randint(1, 5), area=("Kirkmoor", "Wyvern", "Southmoor")[index],
        needs=(Need.AUTISM, Need.LEARNING_DISABILITY, Need.PHYSICAL_DISABILITY),
        rating=rating(rng),
    )
    code = PlaceProvider.PR5 if index == 1 else PlaceProvider.PR4
    return ProviderSpec(name, ProviderKind.RESIDENTIAL_SCHOOL, code, "school", [spec])


def rating(rng: random.Random) -> str:
    return weighted(rng, {OfstedRating.OUTSTANDING: 25, OfstedRating.GOOD: 60,
                          OfstedRating.REQUIRES_IMPROVEMENT: 15})


def weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def postcode(rng: random.Random, *, prefix: str, districts: int) -> str:
    letters = "".join(rng.choice(INWARD_LETTERS) for _n in range(2))
    return f"{prefix}{rng.randint(1, districts)} {rng.randint(1, 9)}{letters}"


def slug(name: str) -> str:
    kept = "".join(c if c.isalnum() else "-" for c in name.lower())
    return "-".join(part for part in kept.split("-") if part)
