"""The pins: every dependency comes from a hashed lock file, the same one for the README's
commands (scripts/install) and the Docker image."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pins(lock: Path) -> dict[str, str]:
    """name -> version of every requirement the lock pins, each with at least one hash."""
    text = lock.read_text()
    entries = re.findall(r"^([A-Za-z0-9._-]+)==([^ \\\n;]+)(.*?)(?=^\S|\Z)", text, re.M | re.S)
    found: dict[str, str] = {}
    for name, version, rest in entries:
        assert "--hash=sha256:" in rest, f"{name} has no hash in {lock.name}"
        found[canonicalize_name(name)] = version
    return found


def required(extra: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return {canonicalize_name(Requirement(r).name) for r in names}


def test_every_dependency_is_pinned_with_hashes() -> None:
    runtime, test = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-test.lock")
    assert required() <= runtime.keys()
    assert required("test") <= test.keys()
    # the tests run against the versions the image ships
    assert {name: test[name] for name in runtime} == runtime


def test_the_image_and_scripts_install_from_the_locks() -> None:
    docker = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --require-hashes -r requirements.lock" in docker
    assert "pip install --no-cache-dir --no-deps ." in docker and " -e " not in docker
    assert "USER optout" in docker and "HEALTHCHECK" in docker
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"data", "keys", ".env"} <= set(ignored)
    install = (ROOT / "scripts" / "install").read_text()
    assert "test) lock=requirements-test.lock" in install
    assert '--require-hashes -r "$lock"' in install
