"""check_address per country (US, CA, GB, AU, DE) on Google's address data, offline, and
AddressForm's suggestion flow. No database: both are pure."""

import socket
from dataclasses import replace

import pytest

from apps.checkout.address_forms import AddressForm
from apps.checkout.addresses import AddressData, check_address, keep_own

VALID = {
    "US": AddressData("Ann", "Lee", "", "1 Market St", "", "San Francisco", "CA", "94107", "US"),
    "CA": AddressData("Ann", "Lee", "", "290 Bremner Blvd", "", "Toronto", "ON", "M5V 3L9", "CA"),
    "GB": AddressData("Ann", "Lee", "", "10 Downing St", "", "London", "", "SW1A 2AA", "GB"),
    "AU": AddressData("Ann", "Lee", "", "1 George St", "", "Sydney", "NSW", "2000", "AU"),
    "DE": AddressData("Ann", "Lee", "", "Unter den Linden 1", "", "Berlin", "", "10117", "DE"),
}

# A national-format phone number of each country and its E.164 form.
PHONES = {
    "US": ("(415) 555-0132", "+14155550132"),
    "CA": ("416-555-0123", "+14165550123"),
    "GB": ("020 7946 0018", "+442079460018"),
    "AU": ("(02) 9374 4000", "+61293744000"),
    "DE": ("030 12345678", "+493012345678"),
}

BAD_POSTCODES = {"US": "9410", "CA": "12345", "GB": "12345", "AU": "20000", "DE": "1011"}

SUBDIVISION_NAMES = {
    "US": ("California", "CA"),
    "CA": ("Ontario", "ON"),
    "AU": ("New South Wales", "NSW"),
}


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The address data ships inside the package: any network access fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("check_address tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("country", sorted(VALID))
def test_a_valid_address_passes_unchanged(country: str) -> None:
    check = check_address(VALID[country])
    assert check.valid, check.errors
    assert check.normalized == VALID[country]
    assert check.suggestion is None
    assert check.changes == ()


@pytest.mark.parametrize("country", sorted(VALID))
def test_missing_street_is_an_error_on_street1(country: str) -> None:
    check = check_address(replace(VALID[country], street1=""))
    assert not check.valid
    assert check.errors["street1"] == ("Enter the street address.",)
    assert check.normalized is None


@pytest.mark.parametrize(
    ("country", "field", "message"),
    [
        ("US", "state", "Choose a state."),
        ("CA", "state", "Choose a province."),
        ("AU", "state", "Choose a state."),
        ("US", "zip_code", "Enter a ZIP code."),
        ("GB", "zip_code", "Enter a postcode."),
        ("DE", "city", "Enter the city."),
        ("GB", "city", "Enter the town or city."),
    ],
)
def test_missing_required_field_for_the_country(country: str, field: str, message: str) -> None:
    check = check_address(replace(VALID[country], **{field: ""}))
    assert check.errors[field] == (message,)


def test_fields_a_country_does_not_require_may_be_blank() -> None:
    assert check_address(replace(VALID["GB"], state="")).valid
    assert check_address(replace(VALID["DE"], state="")).valid


@pytest.mark.parametrize("country", sorted(BAD_POSTCODES))
def test_a_bad_postcode_is_named_in_plain_words(country: str) -> None:
    check = check_address(replace(VALID[country], zip_code=BAD_POSTCODES[country]))
    assert not check.valid
    (message,) = check.errors["zip_code"]
    if country == "US":
        assert message == "Enter a ZIP code like 94107 or 94107-1234."
    else:
        names = {"CA": "Canada", "GB": "United Kingdom", "AU": "Australia", "DE": "Germany"}
        assert message.startswith(f"This postcode doesn't look right for {names[country]}")


@pytest.mark.parametrize("country", sorted(SUBDIVISION_NAMES))
def test_a_subdivision_name_is_suggested_as_its_code(country: str) -> None:
    name, code = SUBDIVISION_NAMES[country]
    check = check_address(replace(VALID[country], state=name))
    assert check.valid
    assert check.suggestion == VALID[country]
    assert check.suggestion is not None
    assert check.suggestion.state == code
    assert check.changes == (f"Used the code {code} for {name}.",)
    # Shipping zones and tax rates match on the code, so the name cannot be kept.
    assert not check.keepable


def test_an_unknown_subdivision_is_an_error() -> None:
    check = check_address(replace(VALID["US"], state="Narnia"))
    assert check.errors["state"] == ("Choose a state of United States of America from the list.",)


@pytest.mark.parametrize("country", sorted(PHONES))
def test_a_national_phone_number_is_stored_as_e164(country: str) -> None:
    national, e164 = PHONES[country]
    check = check_address(replace(VALID[country], phone=national))
    assert check.valid, check.errors
    assert check.normalized is not None
    assert check.normalized.phone == e164
    assert check.suggestion is None  # formatting the phone is not worth asking about


def test_a_bad_phone_number_is_an_error_with_an_example() -> None:
    check = check_address(replace(VALID["DE"], phone="12"))
    (message,) = check.errors["phone"]
    assert message.startswith("Enter a valid phone number, like +49")


@pytest.mark.parametrize("country", ["XX", "ZZ", "", "usa", "1"])
def test_an_unknown_country_code_is_an_error(country: str) -> None:
    check = check_address(replace(VALID["US"], country=country))
    assert check.errors["country"] == ("Choose a country from the list.",)
    assert check.normalized is None


def test_a_lower_case_country_code_is_accepted() -> None:
    check = check_address(replace(VALID["US"], country="us"))
    assert check.valid
    assert check.normalized == VALID["US"]


def test_zip_plus_four_is_formatted() -> None:
    check = check_address(replace(VALID["US"], zip_code="941071234"))
    assert check.suggestion is not None
    assert check.suggestion.zip_code == "94107-1234"
    assert check.changes == ("Wrote the postcode as 94107-1234.",)
    assert not check.keepable  # nine digits without a dash is not a valid ZIP+4


def test_gb_postcode_is_spaced_and_the_unspaced_one_may_be_kept() -> None:
    typed = replace(VALID["GB"], zip_code="sw1a2aa")
    check = check_address(typed)
    assert check.suggestion is not None
    assert check.suggestion.zip_code == "SW1A 2AA"
    assert not check.keepable  # lower case: not what the post office prints
    typed = replace(VALID["GB"], zip_code="SW1A2AA")
    check = check_address(typed)
    assert check.suggestion is not None
    assert check.suggestion.zip_code == "SW1A 2AA"
    assert check.keepable
    assert keep_own(typed, check).zip_code == "SW1A2AA"


def test_whitespace_and_case_are_tidied_and_listed() -> None:
    typed = replace(VALID["CA"], street1="  290  Bremner Blvd ", state="on", zip_code="m5v3l9")
    check = check_address(typed)
    assert check.suggestion == VALID["CA"]
    assert check.changes == (
        "Removed extra spaces in the address line 1.",
        "Wrote the state in capitals: ON.",
        "Wrote the postcode as M5V 3L9.",
    )


def test_a_state_in_a_country_without_states_is_dropped_in_the_suggestion() -> None:
    check = check_address(replace(VALID["DE"], state="Berlin"))
    assert check.suggestion == VALID["DE"]
    assert check.changes == ("Left out the state: addresses in Germany don't use it.",)


def test_names_are_required_and_lengths_bounded() -> None:
    check = check_address(replace(VALID["US"], first_name="", street2="x" * 201))
    assert check.errors["first_name"] == ("Enter a first name.",)
    assert check.errors["street2"] == ("Use at most 200 characters for the address line 2.",)


def test_as_dict_and_from_dict_round_trip() -> None:
    address = replace(VALID["AU"], phone="+61293744000")
    assert AddressData.from_dict(address.as_dict()) == address
    assert AddressData.from_dict({"country": "AU", "city": None, "extra": 1}).country == "AU"


def form_data(address: AddressData, **extra: str) -> dict[str, str]:
    return {**address.as_dict(), **extra}


def test_form_with_a_valid_address_gives_address_data() -> None:
    form = AddressForm(form_data(replace(VALID["AU"], phone="(02) 9374 4000")))
    assert form.is_valid(), form.errors
    assert form.address == replace(VALID["AU"], phone="+61293744000")


def test_form_waits_for_a_choice_then_takes_the_suggestion() -> None:
    data = form_data(replace(VALID["US"], state="California"))
    form = AddressForm(data)
    assert not form.is_valid()
    assert form.awaiting_choice
    assert form.suggestion == VALID["US"]
    accepted = AddressForm({**data, "address_choice": form.suggestion_accept_value})
    assert accepted.is_valid()
    assert accepted.address == VALID["US"]
    kept = AddressForm({**data, "address_choice": "keep"})  # not keepable: a name
    assert not kept.is_valid()


def test_form_field_errors_carry_our_field_names_and_prefix() -> None:
    form = AddressForm(
        {f"shipping-{k}": v for k, v in form_data(replace(VALID["US"], zip_code="1")).items()},
        prefix="shipping",
    )
    assert not form.is_valid()
    assert form.errors["zip_code"] == ["Enter a ZIP code like 94107 or 94107-1234."]
    assert form.choice_name == "shipping-address_choice"


def test_form_refuses_a_country_outside_the_list() -> None:
    form = AddressForm(form_data(replace(VALID["US"], country="XX")))
    assert not form.is_valid()
    assert form.errors["country"] == ["Choose a country from the list."]


def test_form_shows_every_problem_at_once() -> None:
    form = AddressForm(form_data(replace(VALID["US"], first_name="", zip_code="1", state="")))
    assert not form.is_valid()
    assert form.errors["first_name"] == ["Enter the first name."]
    assert form.errors["zip_code"] == ["Enter a ZIP code like 94107 or 94107-1234."]
    assert form.errors["state"] == ["Choose a state."]
