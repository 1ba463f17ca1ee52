import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.claim_codes import ALPHABET, ClaimCode, InvalidClaimCode

codes = st.binary(min_size=5, max_size=5).map(ClaimCode.from_random)


@given(codes)
def test_round_trip_through_what_people_type(code):
    typed = code.display.lower().replace("-", " ")
    assert ClaimCode.parse(typed) == code
    assert len(code.value) == 9
    assert set(code.value) <= set(ALPHABET)
    assert not set("ILOU") & set(code.value)


def test_lookalikes_are_read_as_digits():
    code = ClaimCode.from_random(bytes(5))  # all zeros: "00000000" + check
    assert ClaimCode.parse("OOOO-OOOO-" + code.value[-1]) == code


@given(codes, st.integers(min_value=0, max_value=8), st.sampled_from(ALPHABET))
def test_every_single_mistyped_symbol_is_caught(code, pos, symbol):
    if code.value[pos] == symbol:
        return
    wrong = code.value[:pos] + symbol + code.value[pos + 1 :]
    with pytest.raises(InvalidClaimCode, match="typing mistake"):
        ClaimCode.parse(wrong)


@given(codes, st.integers(min_value=0, max_value=7))
def test_swapped_neighbours_are_caught(code, pos):
    v = code.value
    a, b = v[pos], v[pos + 1]
    # Luhn mod N misses only the swap of the pair whose doubled values wrap identically.
    if a == b or {ALPHABET.index(a), ALPHABET.index(b)} == {0, 31}:
        return
    swapped = v[:pos] + b + a + v[pos + 2 :]
    with pytest.raises(InvalidClaimCode):
        ClaimCode.parse(swapped)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "no claim code"),
        ("ABC", "9 characters"),
        ("ABCD-EFGH-!", "no '!'"),
        ("ABCDUFGHJ", "no 'U'"),
    ],
)
def test_nonsense_gets_a_reason(raw, why):
    with pytest.raises(InvalidClaimCode, match=why):
        ClaimCode.parse(raw)


def test_needs_exactly_five_random_bytes():
    with pytest.raises(ValueError):
        ClaimCode.from_random(b"1234")
