"""`.env.example` documents every setting, and nothing that is not one."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_exactly_the_settings() -> None:
    """Every field of Settings appears in .env.example as OPTOUT_<NAME>, and vice versa."""
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    documented = {line.split("=", 1)[0] for line in lines if line.startswith("OPTOUT_")}
    expected = {f"OPTOUT_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_readme_configuration_table_names_every_setting() -> None:
    """The README's configuration table mentions every setting."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [n for n in Settings.model_fields if f"OPTOUT_{n.upper()}" not in readme]
    assert missing == []
