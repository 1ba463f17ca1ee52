import pytest

from kiosk.domain.customers import (
    ContactPreference,
    CreditLimitExceeded,
    CustomerError,
    account_number_for,
    mask_email,
    mask_name,
    mask_phone,
    normalise_email,
    normalise_phone,
)
from tests.factories import T0, credit, customer, eur


@pytest.mark.parametrize(
    "raw",
    ["+33 6 12 34 56 78", "0033612345678", "06.12.34.56.78", "06 12 34 56 78", "(06) 12-34-56-78"],
)
def test_one_number_many_spellings(raw):
    assert normalise_phone(raw, "33") == "+33612345678"


def test_email_lookup_ignores_case_and_spaces():
    assert normalise_email("  Jean.Dupont@Example.COM ") == "jean.dupont@example.com"


def test_masks_for_a_shared_screen():
    assert mask_name("Jean", "Dupont") == "J. Dup…"
    assert mask_name("", "Li") == "Li"
    assert mask_phone("+33 6 12 34 56 78") == "•• •• •• 56 78"
    assert mask_email("jean.dupont@example.com") == "j•••@e•••.com"
    c = customer()
    assert c.masked_name == "É. Lef…"
    assert "12 34" not in c.masked_phone


def test_last_four_verification():
    c = customer(mobile="+44 7700 900123", phone="")
    assert c.phone_ends_with("0123")
    assert not c.phone_ends_with("0124")
    assert not c.phone_ends_with("123")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"last_name": " "}, "last_name"),
        ({"account_number": ""}, "account_number"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "06 12 34 56 7x"}, "phone"),
        ({"discount_percent": __import__("decimal").Decimal(120)}, "discount_percent"),
        ({"marketing_consent": True}, "marketing_consent_at"),
        (
            {"contact_preference": ContactPreference.SMS, "phone": "", "mobile": ""},
            "contact_preference",
        ),
        ({"phone": "", "email": ""}, "email"),
    ],
)
def test_bad_records_name_the_field(changes, field):
    with pytest.raises(CustomerError) as err:
        customer(**changes)
    assert err.value.field == field


def test_marketing_consent_keeps_its_date():
    c = customer().give_marketing_consent(True, T0)
    assert c.marketing_consent and c.marketing_consent_at == T0
    assert customer().give_marketing_consent(False, T0).marketing_consent_at is None


def test_account_numbers_carry_the_kiosk_prefix():
    assert account_number_for("K1-", 42) == "K1-000042"
    with pytest.raises(CustomerError):
        account_number_for("K1-", 0)


def test_credit_limit_rules():
    acct = credit(limit="100", debt="60", deposits="10")
    assert acct.balance_owed == eur("50")
    assert acct.available == eur("50")
    assert acct.charge(eur("50")).debt == eur("110")
    with pytest.raises(CreditLimitExceeded, match="would exceed"):
        acct.charge(eur("50.01"))
    with pytest.raises(CreditLimitExceeded, match="limit is 0"):
        credit(limit="0").charge(eur("1"))
    with pytest.raises(CreditLimitExceeded):
        acct.charge(eur("-1"))
    assert not credit(limit="0").can_charge(eur("0.01"))


def test_payment_beyond_debt_becomes_a_deposit():
    acct = credit(limit="100", debt="30").record_payment(eur("50"))
    assert acct.debt == eur("0") and acct.unapplied_deposits == eur("20")
