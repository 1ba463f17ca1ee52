"""A kiosk fetching releases from a real TUF repository served by the back office, and
refusing what TUF is there to refuse (the attacks of the TUF specification, §1.5.2):
a tampered archive, an expired timestamp, metadata rolled back, metadata mixed from two
states of the repository, a server broken into (it holds only the timestamp's key),
and, above TUF, a release older than the one running. Each refusal is one clear line,
in the log and on the fleet page."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, MetaFile, Snapshot, Targets

from backoffice.updates.repository import Repository, load_signer
from backoffice.updates.rollout import set_rollout
from kiosk.sync import credentials
from kiosk.sync.client import BackOfficeClient, enroll
from kiosk.updates.fetch import RateLimitedFetcher, Refused, ReleaseFetcher
from kiosk.updates.manager import UpdateManager
from kiosk.updates.releases import Releases


def fetcher(published, tmp: Path, name: str = "kiosk") -> ReleaseFetcher:
    return ReleaseFetcher(
        published.url,
        tmp / name / "metadata",
        tmp / name / "downloads",
        published.repo.metadata / "1.root.json",
        rate_bytes_s=10**9,
    )


def test_a_release_is_fetched_verified_and_unpacked(published, tmp_path: Path) -> None:
    got = fetcher(published, tmp_path).fetch("kiosk-1.2.0.tar.gz", "1.2.0", "1.1.0")
    assert got.version == "1.2.0" and got.archive.stat().st_size == got.length
    folder = Releases(tmp_path / "releases").install(got.archive, "1.2.0")
    assert (folder / "bin" / "kiosk").stat().st_mode & 0o111
    # the trusted metadata the kiosk keeps for next time
    assert {p.name for p in (tmp_path / "kiosk" / "metadata").iterdir()} >= {
        "root.json", "timestamp.json", "snapshot.json", "targets.json"
    }  # fmt: skip


def test_a_tampered_archive_is_refused(published, tmp_path: Path) -> None:
    (stored,) = published.repo.targets_dir.glob("*.kiosk-1.2.0.tar.gz")
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one bit flipped on the server's disk
    stored.write_bytes(bytes(data))
    with pytest.raises(Refused, match="does not match its signed length and hashes"):
        fetcher(published, tmp_path).fetch("kiosk-1.2.0.tar.gz", "1.2.0", "1.1.0")


def test_an_expired_timestamp_is_refused(published, tmp_path: Path) -> None:
    stale = Repository(published.repo.folder, now=lambda: datetime.now(UTC) - timedelta(days=2))
    stale.refresh_timestamp(load_signer(published.keys / "timestamp.pem"), force=True)
    with pytest.raises(Refused, match="expired metadata"):
        fetcher(published, tmp_path).fetch("kiosk-1.2.0.tar.gz", "1.2.0", "1.1.0")


def test_metadata_rolled_back_is_refused(published, tmp_path: Path) -> None:
    old = (published.repo.metadata / "timestamp.json").read_bytes()
    published.publish("1.3.0")
    kiosk = fetcher(published, tmp_path)
    kiosk.fetch("kiosk-1.3.0.tar.gz", "1.3.0", "1.1.0")  # trusts the newer timestamp now
    (published.repo.metadata / "timestamp.json").write_bytes(old)  # the server goes back
    with pytest.raises(Refused, match=r"not at the version expected .*timestamp"):
        kiosk.fetch("kiosk-1.3.0.tar.gz", "1.3.0", "1.1.0")


def test_metadata_mixed_from_two_states_is_refused(published, tmp_path: Path) -> None:
    """The snapshot says targets version 3; the server hands out version 2's targets
    (validly signed, but another state of the repository) under version 3's name."""
    meta = published.repo.metadata
    current = published.repo.snapshot().signed.meta["targets.json"].version
    shutil.copyfile(meta / f"{current - 1}.targets.json", meta / f"{current}.targets.json")
    with pytest.raises(Refused, match=r"mixed from two states .*: Expected targets v3, got v2"):
        fetcher(published, tmp_path).fetch("kiosk-1.2.0.tar.gz", "1.2.0", "1.1.0")


def test_a_server_broken_into_cannot_publish(published, tmp_path: Path) -> None:
    """Whoever holds the server holds the timestamp's key, not the offline ones: a new
    target signed with a key of their own, a snapshot to match, the real timestamp."""
    repo, mine = published.repo, CryptoSigner.generate_ed25519()
    evil = tmp_path / "evil.tar.gz"
    evil.write_bytes(b"not a kiosk")
    targets = repo.targets()
    from tuf.api.metadata import TargetFile

    info = TargetFile.from_file("kiosk-9.0.0.tar.gz", str(evil))
    info.unrecognized_fields["custom"] = {"version": "9.0.0", "channel": "stable"}
    targets.signed.targets[info.path] = info
    targets.signed.version += 1
    repo._sign_write(targets, mine, f"{targets.signed.version}.targets.json")
    snapshot: Metadata[Snapshot] = repo.snapshot()
    snapshot.signed.version += 1
    snapshot.signed.meta["targets.json"] = MetaFile(version=targets.signed.version)
    repo._sign_write(snapshot, mine, f"{snapshot.signed.version}.snapshot.json")
    timestamp = repo.timestamp()
    timestamp.signed.version += 1
    timestamp.signed.snapshot_meta = MetaFile(version=snapshot.signed.version)
    repo._sign_write(timestamp, load_signer(published.keys / "timestamp.pem"), "timestamp.json")
    shutil.copyfile(evil, repo.targets_dir / f"{info.hashes['sha256']}.kiosk-9.0.0.tar.gz")
    with pytest.raises(Refused, match="not signed by the trusted keys"):
        fetcher(published, tmp_path).fetch("kiosk-9.0.0.tar.gz", "9.0.0", "1.1.0")
    assert isinstance(Metadata.from_file(str(repo.metadata / "1.targets.json")).signed, Targets)


def test_an_older_release_is_not_installed(published, tmp_path: Path) -> None:
    with pytest.raises(Refused, match=r"1\.1\.0 is not newer than the running 1\.2\.0"):
        fetcher(published, tmp_path).fetch("kiosk-1.1.0.tar.gz", "1.1.0", "1.2.0")
    with pytest.raises(Refused, match=r"signed as version '1\.2\.0', not '1\.3\.0'"):
        fetcher(published, tmp_path).fetch("kiosk-1.2.0.tar.gz", "1.3.0", "1.1.0")


def test_a_refusal_is_logged_and_on_the_fleet_page(
    published, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    """The kiosk's own update code, asked by the back office's rollout through a real
    heartbeat, refuses the tampered archive and says so to the back office."""
    server = published.server
    answer = enroll(server.url, server.code("K1"))
    cred = credentials.Credential(server.url, "K1", answer["shop_id"], answer["credential"])
    set_rollout(server.office.sessions, server.shop_id, version="1.2.0")
    (stored,) = published.repo.targets_dir.glob("*.kiosk-1.2.0.tar.gz")
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")
    monkeypatch.setenv("KIOSK_RELEASE", "1.1.0")
    manager = UpdateManager(
        tmp_path / "updates",
        tmp_path / "releases",
        fetcher(published, tmp_path),
        opening_hours=[],
        deadline_s=60,
        store_dir=tmp_path,
    )
    client = BackOfficeClient(server.url, cred.token, timeout_s=5)
    beat = {"version": "1.1.0", "update": manager.report()}
    manager.directive(client.heartbeat(beat).get("update"))
    assert manager.wanted == {"version": "1.2.0", "target": "kiosk-1.2.0.tar.gz"}
    with caplog.at_level(logging.ERROR, logger="kiosk.updates"):
        manager.fetch_wanted()
    (line,) = {r.getMessage() for r in caplog.records if r.name.startswith("kiosk.updates")}
    assert line.startswith("update to 1.2.0 not installed: kiosk-1.2.0.tar.gz does not match")
    assert manager.releases.installed() == []
    client.heartbeat({"version": "1.1.0", "update": manager.report()})
    client.close()
    token = server.token_file.read_text().strip()
    page = httpx.get(f"{server.url}/fleet/{server.shop_id}", auth=("staff", token)).text
    assert "refused; 1.2.0: kiosk-1.2.0.tar.gz does not match its signed length" in page
    assert "1.2.0 (100 %)" in page  # what the back office asks of it


def test_the_download_keeps_to_its_rate(published, tmp_path: Path, monkeypatch) -> None:
    """At [updates] rate_kib_s: the fetcher waits as long as the bytes it has read
    would take at that rate (its waits recorded here, not slept)."""
    import base64
    import os

    filler = base64.b64encode(os.urandom(90_000)).decode()
    published.publish("1.3.0", text=f"#!/bin/sh\n# {filler}\nexit 0\n")
    kiosk = fetcher(published, tmp_path)
    kiosk.rate = 20_000
    waits: list[float] = []
    original = RateLimitedFetcher.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.sleep = waits.append

    monkeypatch.setattr(RateLimitedFetcher, "__init__", recording)
    got = kiosk.fetch("kiosk-1.3.0.tar.gz", "1.3.0", "1.2.0")
    assert got.length > 60_000
    # each wait is how far the bytes read are ahead of the rate since the download began
    # (the waits are not slept here, so the last one is the download's whole length)
    assert got.length / 20_000 * 0.9 <= max(waits) <= got.length / 20_000 + 0.5


def test_an_unreachable_repository_is_tried_again_at_the_next_heartbeat(
    published, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("KIOSK_RELEASE", "1.1.0")
    manager = UpdateManager(tmp_path / "updates", tmp_path / "releases",
                            fetcher(published, tmp_path), opening_hours=[], deadline_s=60,
                            store_dir=tmp_path)  # fmt: skip
    asked = {"version": "1.2.0", "target": "kiosk-1.2.0.tar.gz"}
    manager.directive(asked)
    published.server.stop()
    manager._wake.clear()
    manager.fetch_wanted()
    assert manager.activity == "unreachable" and "1.2.0" in manager.error
    published.server.start()
    manager.directive(asked)  # the same answer, at the next heartbeat
    assert manager._wake.is_set()  # the download thread tries again
    manager.fetch_wanted()
    assert manager.downloaded == "1.2.0" and manager.releases.installed() == ["1.2.0"]
