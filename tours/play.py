"""`python -m tours.play NAME --out DIR`: the kiosk run as `kiosk run` runs it, with the
scripted journey NAME (tours/scenarios.py) driving its screens and writing screenshots
and result.json to DIR. The UI tests, the demo tour and the UI benchmark start it; the
kiosk's own package never imports tours/ (it is handed a `Script`)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiosk import config as config_module
from kiosk.app.runner import Script, run
from kiosk.config import Config, ConfigError

# Nothing of Kivy may be imported before `run` has configured it (the walk's screen_dpi
# becomes KIVY_DPI, read once when kivy.metrics is first imported): tours.scenarios,
# whose journeys import Kivy, is imported only once the kiosk's window is set up.
#
# Scenarios whose every frame is drawn: they time frames or are watched (the demo tour).
# The others draw only their pictures (tours/driver.py, Driver).
DRAWN = {"transitions", "soak", "tour"}
# Settings a scenario needs (short idle time-outs for the idle scenario).
CONFIG = {
    "idle": {"kiosk": {"idle_timeout_s": 2, "idle_warning_s": 3}},
    # the layout check in real millimetres: the 7-inch Raspberry Pi panel (800×480)
    "walk": {"kiosk": {"screen_dpi": 133}},
    "three_languages": {"kiosk": {"languages": ["de", "en", "fr"]}},
    "walk_de": {"kiosk": {"screen_dpi": 133, "languages": ["de", "en", "fr"]}},
}


def with_scenario_settings(cfg: Config, name: str) -> Config:
    """The configuration with the settings the scenario needs (CONFIG above)."""
    overrides = CONFIG.get(name, {})
    if not overrides:
        return cfg
    raw: dict[str, Any] = {
        "shop": {"name": cfg.shop.name},
        "kiosk": {"id": cfg.kiosk.id, "data_dir": cfg.kiosk.data_dir, **overrides["kiosk"]},
        "printer": {"sim_output_dir": cfg.printer.sim_output_dir},
        "lockers": dataclasses.asdict(cfg.lockers),
    }
    return config_module.from_mapping(raw, f"<scenario {name}>")


def script(name: str, out: Path) -> Script:
    def install(app: Any) -> None:
        from tours.driver import Driver
        from tours.scenarios import SCENARIOS

        if name not in SCENARIOS:
            known = ", ".join(sorted(SCENARIOS))
            raise SystemExit(f"tours.play: no scenario {name!r}; known: {known}")
        out.mkdir(parents=True, exist_ok=True)
        # Kivy's Clock holds bound methods weakly: the app must keep the driver alive.
        app.driver = Driver(app, SCENARIOS[name], out, draws=name in DRAWN)
        app.driver.install()

    def prepare(services: Any) -> None:
        from tours.scenarios import prepare as seed

        seed(services)

    def exit_code() -> int:
        return 0 if json.loads((out / "result.json").read_text())["ok"] else 1

    return Script(install=install, prepare=prepare, exit_code=exit_code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tours.play", description=__doc__)
    parser.add_argument("scenario", metavar="NAME", help="a journey of tours/scenarios.py")
    parser.add_argument("--out", required=True, help="screenshots and result.json")
    parser.add_argument("--config", default="demo", help="as `kiosk --config`")
    parser.add_argument("--size", default="1024x600", help="window size WxH")
    args = parser.parse_args(argv)
    try:
        cfg = with_scenario_settings(config_module.load(args.config), args.scenario)
    except ConfigError as exc:
        print(f"tours.play: configuration error: {exc}", file=sys.stderr)
        return 1
    width, _, height = args.size.partition("x")
    return run(
        cfg,
        size=(int(width), int(height)),
        script=script(args.scenario, Path(args.out)),
    )


if __name__ == "__main__":
    sys.exit(main())
