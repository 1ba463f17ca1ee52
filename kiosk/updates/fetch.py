"""Fetching a release through The Update Framework (`tuf.ngclient`): the metadata is
refreshed and verified against the root the kiosk was provisioned with (signatures,
thresholds, expiry, version numbers never going down, snapshot and targets agreeing),
then the release archive is downloaded at a bounded rate and checked against the length
and hashes the signed targets metadata gives. Anything that does not verify is refused
with one line saying what and why (`Refused`); a network that fails is `Unreachable`.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from packaging.version import InvalidVersion, Version
from tuf.api import exceptions
from tuf.ngclient import Updater
from tuf.ngclient.fetcher import FetcherInterface

log = logging.getLogger(__name__)

CHUNK = 16 * 1024


class UpdateError(Exception):
    """Why a release was not fetched."""


class Refused(UpdateError):
    """The repository's answer did not verify: an attack or a broken release."""


class Unreachable(UpdateError):
    """The repository could not be reached: try again later."""


class RateLimitedFetcher(FetcherInterface):
    """httpx (the kiosk's HTTP client, its CA bundle) at no more than `rate` bytes a
    second, so a download in the background never starves the sync or the terminal."""

    def __init__(self, rate: int, *, timeout_s: float = 30.0, verify: bool | str = True) -> None:
        self.rate = rate
        self.client = httpx.Client(timeout=timeout_s, verify=verify)
        self.sleep = time.sleep

    def _fetch(self, url: str) -> Iterator[bytes]:
        try:
            request = self.client.build_request("GET", url)
            response = self.client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise exceptions.SlowRetrievalError(f"{url}: {exc}") from exc
        if response.status_code != 200:
            response.close()
            raise exceptions.DownloadHTTPError(
                f"{url}: HTTP {response.status_code}", response.status_code
            )
        return self._paced(response)

    def _paced(self, response: httpx.Response) -> Iterator[bytes]:
        started, sent = time.monotonic(), 0
        try:
            for chunk in response.iter_bytes(CHUNK):
                yield chunk
                sent += len(chunk)
                ahead = sent / self.rate - (time.monotonic() - started)
                if self.rate and ahead > 0:
                    self.sleep(ahead)
        except httpx.TimeoutException as exc:
            raise exceptions.SlowRetrievalError(str(exc)) from exc
        finally:
            response.close()

    def close(self) -> None:
        self.client.close()


@dataclass(frozen=True)
class Release:
    version: str
    target: str  # its name in the repository: kiosk-<version>.tar.gz
    archive: Path  # verified, on the kiosk's disk
    length: int


def parse_version(text: str, what: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise Refused(f"{what} {text!r} is not a version number") from None


class ReleaseFetcher:
    """One kiosk's view of the repository: its trusted metadata in `metadata_dir`
    (root.json provisioned there first), downloads in `download_dir`."""

    def __init__(
        self,
        base_url: str,
        metadata_dir: Path,
        download_dir: Path,
        trusted_root: Path,
        *,
        rate_bytes_s: int = 256 * 1024,
        verify: bool | str = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.metadata_dir = metadata_dir
        self.download_dir = download_dir
        self.trusted_root = trusted_root  # provisioned: /etc/kiosk/update-root.json
        self.rate = rate_bytes_s
        self.verify = verify

    def _updater(self, fetcher: RateLimitedFetcher) -> Updater:
        root = self.metadata_dir / "root.json"
        if not root.exists():  # the first time: the root provisioning installed
            if not self.trusted_root.is_file():
                raise Refused(f"no trusted root at {self.trusted_root}: provisioning puts it")
            self.metadata_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.trusted_root, root)
        return Updater(
            metadata_dir=str(self.metadata_dir),
            metadata_base_url=f"{self.base_url}/metadata/",
            target_dir=str(self.download_dir),
            target_base_url=f"{self.base_url}/targets/",
            fetcher=fetcher,
            bootstrap=None,  # the root already trusted (and any newer one it verified)
        )

    def fetch(self, target: str, version: str, running: str) -> Release:
        """Verify the repository, then download `target` if it is `version` and newer
        than the running one."""
        wanted = parse_version(version, "the release asked for")
        if running and wanted <= parse_version(running, "the running release"):
            raise Refused(f"{version} is not newer than the running {running}: not installed")
        self.download_dir.mkdir(parents=True, exist_ok=True)
        fetcher = RateLimitedFetcher(self.rate, verify=self.verify)
        try:
            updater = self._updater(fetcher)
            updater.refresh()
            info = updater.get_targetinfo(target)
            if info is None:
                raise Refused(f"{target} is not in the signed targets")
            signed_version = str((info.custom or {}).get("version", ""))
            if signed_version != version:
                raise Refused(f"{target} is signed as version {signed_version!r}, not {version!r}")
            path = updater.find_cached_target(info) or updater.download_target(info)
        except exceptions.ExpiredMetadataError as exc:
            raise Refused(f"expired metadata: {exc}") from exc
        except exceptions.BadVersionNumberError as exc:
            raise Refused(
                f"metadata not at the version expected (rolled back, or mixed from two "
                f"states of the repository): {exc}"
            ) from exc
        except exceptions.LengthOrHashMismatchError as exc:
            raise Refused(f"{target} does not match its signed length and hashes: {exc}") from exc
        except exceptions.UnsignedMetadataError as exc:
            raise Refused(f"metadata not signed by the trusted keys: {exc}") from exc
        except exceptions.RepositoryError as exc:
            raise Refused(f"the repository did not verify: {exc}") from exc
        except exceptions.DownloadError as exc:
            raise Unreachable(f"{self.base_url}: {exc}") from exc
        except OSError as exc:
            raise Unreachable(f"cannot write under {self.download_dir}: {exc}") from exc
        finally:
            fetcher.close()
        return Release(version, target, Path(path), int(info.length))
