import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import __version__
from kiosk.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_env(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_DEMO_DIR", str(tmp_path / "store"))
    return tmp_path


def test_version_and_help_through_python_m():
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout.strip() == f"kiosk {__version__}"
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    for command in ("config", "outbox", "store", "demo"):
        assert command in out.stdout


def test_seed_then_outbox_reports_pending(demo_env, capsys):
    assert main(["--config", "demo", "demo", "seed", "--customers", "6"]) == 0
    assert "6 customers, 6 orders" in capsys.readouterr().out
    assert main(["--config", "demo", "outbox", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pending"] == 12 and report["dead_letters"] == []
    assert main(["--config", "demo", "outbox"]) == 0
    assert "pending        12" in capsys.readouterr().out


def test_store_check_and_compact(demo_env, capsys):
    main(["--config", "demo", "demo", "seed", "--customers", "3"])
    assert main(["--config", "demo", "store", "compact"]) == 0
    assert main(["--config", "demo", "store", "check"]) == 0
    out = capsys.readouterr().out
    assert "customers    3" in out and "journal        0 bytes" in out


def test_config_check_errors_exit_1(tmp_path, capsys):
    bad = tmp_path / "k.toml"
    bad.write_text('[shop]\nname = "x"\n[kiosk]\nid = "K1"\nidle_timeout = 3\n')
    assert main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "unknown key 'idle_timeout' (did you mean 'idle_timeout_s'?)" in err
    assert main(["config", "check", str(tmp_path / "none.toml")]) == 1


def test_second_process_is_refused_by_name(demo_env, capsys):
    from kiosk import config
    from kiosk.services.context import open_kiosk_store

    repos = open_kiosk_store(config.demo())
    try:
        assert main(["--config", "demo", "outbox"]) == 1
        assert "only one process may open the store" in capsys.readouterr().err
    finally:
        repos.store.close()


def test_staff_add_and_list(demo_env, capsys, monkeypatch):
    import io

    for line, argv in [
        ("1111", ["s1", "Sam", "--card", "STAFF-0001"]),
        ("3333", ["m1", "Maud", "--role", "manager"]),
    ]:
        monkeypatch.setattr("sys.stdin", io.StringIO(line + "\n"))
        assert main(["--config", "demo", "staff", "add", *argv, "--pin-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("1111\n"))
    assert main(["--config", "demo", "staff", "add", "s2", "Sol", "--pin-stdin"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("12\n"))
    assert main(["--config", "demo", "staff", "add", "s3", "Sid", "--pin-stdin"]) == 2
    err = capsys.readouterr().err
    assert "already someone's" in err and "4 to 8 digits" in err
    assert main(["--config", "demo", "staff", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in listed] == [
        ["m1", "Maud", "manager"],
        ["s1", "Sam", "staff"],
    ]
    assert "1111" not in "".join(listed)


def test_store_prune_reports_what_left(demo_env, capsys):
    assert main(["--config", "demo", "store", "prune"]) == 0
    assert capsys.readouterr().out.startswith(
        "pruned (older than 90 days, already synced): 0 orders"
    )
