import pytest

from kiosk import config
from kiosk.config import ConfigError

GOOD = """
[shop]
name = "Vélos Martin"
currency = "EUR"

[kiosk]
id = "K2"
data_dir = "/tmp/x"

[outbox]
retry_base_s = 2
"""


LOCKERS = (
    GOOD
    + """
[lockers]
locker = [
    {{ id = "1", lock_pin = {a} }},
    {{ id = "2", lock_pin = {b} }},
]
"""
)


def test_lockers_as_tables(tmp_path):
    cfg = config.load(write(tmp_path, LOCKERS.format(a="17, door_pin = 27", b="22, door_pin = 23")))
    assert [(e.id, e.lock_pin, e.door_pin) for e in cfg.lockers.locker] == [
        ("1", 17, 27),
        ("2", 22, 23),
    ]


def write(tmp_path, text):
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_loads_with_defaults(tmp_path):
    cfg = config.load(write(tmp_path, GOOD))
    assert cfg.shop.name == "Vélos Martin" and cfg.kiosk.id == "K2"
    assert cfg.outbox.retry_base_s == 2.0 and cfg.outbox.max_attempts == 10
    assert cfg.sync.url == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace('name = "V', 'nmae = "V'),
            r"\[shop\]: unknown key 'nmae' \(did you mean 'name'\?\)",
        ),
        (GOOD.replace('id = "K2"', "id = 2"), r"\[kiosk\] id: expected a string, got 2"),
        (GOOD.replace('id = "K2"', ""), r"\[kiosk\] id: required"),
        (GOOD.replace("retry_base_s = 2", "retry_base_s = true"), "expected a number, got True"),
        (GOOD.replace("retry_base_s = 2", "retry_base_s = -1"), "must be greater than 0"),
        (GOOD.replace('"EUR"', '"EURO"'), "not a supported ISO 4217 code"),
        (GOOD.replace('id = "K2"', 'id = "k-2!"'), "1 to 8 capital letters"),
        (
            GOOD + "\n[printre]\nport = 1\n",
            "top level: unknown key 'printre' \\(did you mean 'printer'",
        ),
        (
            GOOD + '\n[printer]\nbackend = "bluetooth"\n',
            r"\[printer\] backend: 'bluetooth' is not one of",
        ),
        (GOOD + '\n[printer]\nbackend = "network"\n', r"\[printer\] host: required"),
        (GOOD + "\n[terminal]\npassword = 1234567\n", "at most 6 digits"),
        (GOOD + '\n[lockers]\npin_factory = "wiringpi"\n', "is not rpigpio, lgpio or mock"),
        (
            LOCKERS.format(a="17, door_pin = 27", b="17, door_pin = 22"),
            "lock_pin GPIO 17 is already",
        ),
        (
            LOCKERS.format(a="17, door_pin = 27", b="40, door_pin = 22"),
            "40 is not a usable BCM GPIO",
        ),
        (
            LOCKERS.format(a="17, door_pin = 27, colour = 1", b="22, door_pin = 23"),
            r"\[lockers.locker\[0\]\]: unknown key 'colour'",
        ),
        (
            LOCKERS.format(a="17", b="22, door_pin = 23"),
            r"#1 \(id '1'\) door_pin: required for the gpio backend",
        ),
        (
            GOOD + '\n[lockers]\nbackend = "can"\n',
            r"\[lockers\] backend: 'can' is not gpio, cu16, cu48, modbus or pico",
        ),
        (
            GOOD + '\n[lockers]\nbackend = "rs485"\n',
            r"'rs485' is now named for the board it speaks to: cu16 \(Kerong KR-CU16\) or cu48",
        ),
        (
            GOOD + '\n[lockers]\nbackend = "cu16"\nbaudrate = 19000\n',
            r"\[lockers\] baudrate: 19000 is not a serial line speed",
        ),
        (
            GOOD + '\n[lockers]\nbackend = "cu48"\nhook_closed_bit = 2\n',
            r"\[lockers\] hook_closed_bit: expected 0 or 1",
        ),
        (
            GOOD + '\n[lockers]\nbackend = "cu16"\n'
            '[[lockers.locker]]\nid = "1"\nboard = 0\nlock = 17\n',
            "board 0 lock 17: expected board 0-15, lock 1-16",
        ),
        (
            GOOD + '\n[lockers]\nbackend = "cu48"\n'
            '[[lockers.locker]]\nid = "1"\nboard = 16\nlock = 48\n',
            "board 16 lock 48: expected board 0-15, lock 1-48",
        ),
        (
            GOOD
            + '\n[lockers]\nbackend = "cu16"\n[[lockers.locker]]\nid = "1"\nboard = 2\nlock = 3\n'
            + '[[lockers.locker]]\nid = "2"\nboard = 2\nlock = 3\n',
            "board 2 lock 3 is already locker 1",
        ),
        (
            GOOD + '\n[lockers]\nbackend = "pico"\n[[lockers.locker]]\nid = "1"\n',
            r"#1 \(id '1'\): channel 0: expected 1-64",
        ),
        (GOOD + '\n[sync]\nurl = "ftp://x"\n', "expected http:// or https://"),
        (GOOD + "\n[kiosk2]\n", "unknown key 'kiosk2'"),
        (GOOD + '\n[terminal]\ncharset = "klingon"\n', r"\[terminal\] charset: 'klingon' is no"),
        ('[shop]\nname = "x"\n', r"\[kiosk\] section is required"),
        ("[shop\nname=", "not valid TOML"),
        (
            GOOD.replace('id = "K2"', 'id = "K2"\nlanguages = ["nl"]'),
            "languages: expected some of fr, en, de",
        ),
    ],
)
def test_errors_name_file_key_and_expectation(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as err:
        config.load(path)
    assert str(path) in str(err.value)


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match=r"no such file.*--config demo"):
        config.load(tmp_path / "nope.toml")


def test_demo_profile_needs_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_DEMO_DIR", str(tmp_path))
    cfg = config.load("demo")
    assert cfg.kiosk.id == "DEMO" and cfg.kiosk.data_dir == str(tmp_path)


def test_example_file_is_complete_and_valid(tmp_path):
    text = config.example()
    cfg = config.load(write(tmp_path, text))
    assert cfg.shop.name == "My Repair Shop"
    for key in ("compact_ratio", "max_attempts", "interval_s", "prices_include_tax"):
        assert f"\n{key} = " in text
