"""A shop's message settings are checked whole before they are kept: each mistake is
named with its section and key, and nothing of a refused file is stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backoffice.messages.settings import SettingsError, parse

pytestmark = pytest.mark.messages
EMAIL = {"host": "smtp.example.com", "sender": "Atelier <a@example.com>"}
SMPP = {"host": "smpp.example", "system_id": "atelier", "password": "pw", "source_addr": "Shop"}


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"email": {**EMAIL, "hots": "x"}}, "[email] has no key hots"),
        ({"email": {**EMAIL, "port": "587"}}, "[email] port must be int, not '587'"),
        ({"email": {**EMAIL, "security": "ssl"}}, "[email] security is one of starttls, tls, none"),
        ({"email": {**EMAIL, "sender": "atelier"}}, "[email] sender needs an address"),
        ({"email": {**EMAIL, "username": "u"}}, "[email] username and password go together"),
        ({"email": {"host": "smtp.example.com"}}, "[email] "),  # sender missing
        ({"sms": {**SMPP, "password": "123456789"}}, "[sms] password has at most 8 characters"),
        ({"sms": {"transport": "webhook"}}, "[sms] webhook needs webhook_url"),
        ({"sms": {"transport": "carrier-pigeon"}}, "[sms] transport is one of smpp, webhook"),
        ({"languge": "fr"}, "[messaging] has no key languge"),
        ({"country_calling_code": "+33"}, "[messaging] country_calling_code is digits"),
    ],
)
def test_each_mistake_is_named(data: dict[str, object], said: str) -> None:
    with pytest.raises(SettingsError) as refused:
        parse(data)
    assert str(refused.value).startswith(said), refused.value


def test_the_command_refuses_a_bad_file_and_keeps_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'office.db'}"
    root = Path(__file__).resolve().parents[2]
    run = [sys.executable, "-m", "backoffice", "--db", db]
    subprocess.run([*run, "seed", "--demo"], cwd=root, check=True, capture_output=True)
    bad = tmp_path / "bad.toml"
    bad.write_text('[email]\nhost = "smtp.example.com"\nsender = "a@example.com"\nport = "587"\n')
    done = subprocess.run(
        [*run, "messaging", "--shop", "1", str(bad)], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "[email] port must be int, not '587'" in done.stderr
    good = tmp_path / "good.toml"
    good.write_text('[email]\nhost = "smtp.example.com"\nsender = "a@example.com"\n')
    done = subprocess.run(
        [*run, "messaging", "--shop", "1", str(good)], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0 and "e-mail on, SMS off" in done.stdout
