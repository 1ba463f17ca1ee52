"""The tree being provisioned and how a step changes it: the running system (`/`) or a
staged one (`--root`: an SD card on a laptop, a chroot). Every change looks before it
writes, is reported on its step, and is only described under --dry-run. The steps
themselves are in provision.py and hardening.py."""

from __future__ import annotations

import difflib
import os
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent  # the kiosk's source tree (setup.cfg, kiosk/, systemd/)
DATA_DIR = "/var/lib/kiosk"
USER = "kiosk"


class ProvisionError(Exception):
    pass


@dataclass
class Step:
    name: str
    status: str = "unchanged"  # unchanged | changed | skipped | failed | would change
    details: list[str] = field(default_factory=list)


class Target:
    def __init__(self, root: Path, dry_run: bool, source: Path = SOURCE) -> None:
        self.root = root
        self.dry_run = dry_run
        self.source = source
        self.steps: list[Step] = []
        self.live = root == Path("/")

    # -- the tree --
    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def is_whole_os(self) -> bool:
        """A chroot we can run the target's own programs in."""
        return self.live or (
            self.path("/usr/bin/apt-get").exists() and self.path("/usr/bin/python3").exists()
        )

    def run(self, step: Step, command: list[str], *, check: bool = True) -> str:
        """Run on the target: directly when live, through chroot on a staged OS."""
        full = command if self.live else ["chroot", str(self.root), *command]
        if self.dry_run:
            step.details.append(f"would run: {shlex.join(command)}")
            return ""
        done = subprocess.run(full, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise ProvisionError(
                f"{shlex.join(command)} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-800:]}"
            )
        return done.stdout

    def write(self, step: Step, absolute: str, text: str, mode: int = 0o644) -> None:
        target = self.path(absolute)
        old = target.read_text() if target.exists() else None
        if old == text and (target.stat().st_mode & 0o777) == mode:
            return
        step.status = "would change" if self.dry_run else "changed"
        if old is None:
            step.details.append(f"create {absolute}")
        else:
            diff = list(difflib.unified_diff(old.splitlines(), text.splitlines(), lineterm=""))
            step.details.append(f"update {absolute} ({max(0, len(diff) - 3)} diff lines)")
        if self.dry_run:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".provision-tmp")
        tmp.write_text(text)
        tmp.chmod(mode)
        os.replace(tmp, target)

    # -- the steps --
    def step(self, name: str) -> Step:
        s = Step(name)
        self.steps.append(s)
        return s

    def local(self, step: Step, command: list[str]) -> None:
        """shadow-utils work on a staged tree themselves (--root), no chroot needed."""
        if self.dry_run:
            step.details.append(f"would run: {shlex.join(command)}")
            return
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise ProvisionError(f"{shlex.join(command)}: {done.stderr.strip()}")

    def chown(self, step: Step, absolute: str) -> None:
        target = self.path(absolute)
        ids = self.ids()
        if ids is None:
            return
        st = target.stat()
        if (st.st_uid, st.st_gid) != ids:
            step.status = "changed"
            step.details.append(f"chown {absolute} {USER}:{USER}")
            os.chown(target, *ids)

    def ids(self) -> tuple[int, int] | None:
        for line in self.path("/etc/passwd").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == USER:
                return int(fields[2]), int(fields[3])
        return None
