"""Which sensor is which: role → address (and profile) remembered in a small JSON file.

The file lives at ``$SPINEWATCH_HOME/sensors.json`` (default ``~/.config/spinewatch``)::

    {"schema_version": 1,
     "sensors": {"thoracic": {"address": "C0:5E:..", "profile": "spinewatch", "rate_hz": 200},
                 "lumbar":   {"address": "C0:5E:..", "profile": "spinewatch", "rate_hz": 200}}}
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from firmware_bridge.api import BridgeError
from posture.jsonsafe import dumps_json

SCHEMA_VERSION = 1


def config_dir() -> Path:
    home = os.environ.get("SPINEWATCH_HOME")
    return Path(home) if home else Path.home() / ".config" / "spinewatch"


@dataclass(frozen=True)
class PairedSensor:
    address: str
    profile: str = "spinewatch"
    rate_hz: float = 200.0
    name: str = ""


@dataclass(frozen=True)
class Pairing:
    sensors: dict[str, PairedSensor] = field(default_factory=dict)

    def with_sensor(self, role: str, sensor: PairedSensor) -> Pairing:
        # One sensor per role, and one role per sensor.
        keep = {r: s for r, s in self.sensors.items() if s.address != sensor.address}
        return Pairing({**keep, role: sensor})

    def save(self, path: Path | None = None) -> Path:
        p = path or config_dir() / "sensors.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "schema_version": SCHEMA_VERSION,
            "sensors": {r: asdict(s) for r, s in self.sensors.items()},
        }
        tmp = p.with_suffix(".tmp")
        tmp.write_text(dumps_json(body) + "\n", encoding="utf-8")
        tmp.replace(p)
        return p

    @classmethod
    def load(cls, path: Path | None = None) -> Pairing:
        p = path or config_dir() / "sensors.json"
        if not p.exists():
            return cls()
        try:
            d = json.loads(p.read_text())
            if d.get("schema_version") != SCHEMA_VERSION:
                raise BridgeError(
                    f"{p}: schema_version {d.get('schema_version')} is not supported "
                    f"(expected {SCHEMA_VERSION}); delete the file and pair the sensors again"
                )
            return cls({r: PairedSensor(**s) for r, s in d["sensors"].items()})
        except (ValueError, KeyError, TypeError) as exc:
            raise BridgeError(
                f"{p} is not a valid sensor pairing file ({exc}); delete it and run "
                "'spinewatch pair' again"
            ) from exc
