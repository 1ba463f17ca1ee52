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
        (GOOD + "\n[printer]\nport = 1\n", "top level: unknown key 'printer'"),
        (GOOD + '\n[sync]\nurl = "ftp://x"\n', "expected http:// or https://"),
        (GOOD + "\n[kiosk2]\n", "unknown key 'kiosk2'"),
        ('[shop]\nname = "x"\n', r"\[kiosk\] section is required"),
        ("[shop\nname=", "not valid TOML"),
        (
            GOOD.replace('id = "K2"', 'id = "K2"\nlanguages = ["de"]'),
            "languages: expected some of en, fr",
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
