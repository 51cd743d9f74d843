"""Issue 10, point 6: the setup a new admin reads matches what the bot does."""
import dataclasses
import tomllib
from pathlib import Path

import yaml

from bot.config import Config, load_config

REPO = Path(__file__).resolve().parent.parent


def test_the_sample_config_covers_every_setting_and_loads():
    sample = REPO / "config.sample.toml"
    text = sample.read_text()
    for f in dataclasses.fields(Config):
        assert f.name in text, f"config.sample.toml does not mention {f.name}"
    for kind in ("moderators", "ethics_leads"):
        assert f"[roles.{kind}]" in text
    assert "store_text" in tomllib.loads(text) and "allowed_bots" in tomllib.loads(text)
    config = load_config(sample, env={})
    assert config == Config(roles=config.roles, allowed_bots=config.allowed_bots)  # the defaults
    assert not any(config.roles.moderators.values()) and not any(config.allowed_bots.values())


def test_the_bot_has_one_name_in_the_manifest_the_readme_and_the_code():
    name = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert list(name) == ["triage-bot"]
    manifest = yaml.safe_load((REPO / "adapters/slack/manifest.yaml").read_text())
    assert manifest["display_information"]["name"] == "triage-bot"
    assert manifest["features"]["bot_user"]["display_name"] == "triage-bot"
    assert "@triage-bot" in manifest["display_information"]["long_description"]
    readme = (REPO / "README.md").read_text()
    assert "/invite @triage-bot" in readme and "Governance Triage" not in readme


def test_the_readme_setup_section_has_what_a_new_admin_needs():
    readme = (REPO / "README.md").read_text()
    setup = readme[readme.index("## Setup for a new admin"):readme.index("## Settings, records and privacy")]
    for needed in ("3.11", "python3-venv", "/invite", "member id", "user group", "Copy Role ID",
                   "Public Bot", "config.sample.toml", "console", "data directory"):
        assert needed in setup, needed
