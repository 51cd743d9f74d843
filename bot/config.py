"""Operator settings: roles, privacy and limits, from a TOML or YAML file plus environment.

Secrets (tokens, signing secrets) are deliberately *not* here: they come only from the
environment, read by the adapter that needs them, so a config file can be shared safely.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Roles:
    """Per platform: user ids and group/role ids (Slack user-group ids, Discord role ids)."""

    moderators: dict[str, frozenset[str]] = field(default_factory=dict)
    ethics_leads: dict[str, frozenset[str]] = field(default_factory=dict)

    def is_moderator(self, platform: str, user: str, roles=frozenset()) -> bool:
        allowed = self.moderators.get(platform, frozenset())
        return user in allowed or bool(allowed & set(roles))

    def is_ethics_lead(self, platform: str, user: str, roles=frozenset()) -> bool:
        allowed = self.ethics_leads.get(platform, frozenset())
        return user in allowed or bool(allowed & set(roles)) or self.is_moderator(platform, user, roles)


@dataclass(frozen=True)
class Config:
    database_url: str | None = None
    data_dir: Path | None = None
    store_text: bool = False  # message text is not stored unless an operator opts in
    retention_days: int = 180
    rate_per_minute: float = 10.0
    rate_burst: int = 10
    roles: Roles = field(default_factory=Roles)
    # Per platform: bot user ids the service may answer. Empty: no bot is ever answered,
    # because two bots replying to each other (a reply-ping is a mention) never stop.
    allowed_bots: dict[str, frozenset[str]] = field(default_factory=dict)


_ENV = {
    "TRIAGE_DATABASE_URL": "database_url",
    "TRIAGE_DATA_DIR": "data_dir",
    "TRIAGE_STORE_TEXT": "store_text",
    "TRIAGE_RETENTION_DAYS": "retention_days",
    "TRIAGE_RATE_PER_MINUTE": "rate_per_minute",
    "TRIAGE_RATE_BURST": "rate_burst",
}
_ROLE_ENV = "TRIAGE_{kind}_{platform}"  # e.g. TRIAGE_MODERATORS_SLACK="U123,S456"
_PLATFORMS = ("slack", "discord", "console")


def load_config(path: str | Path | None = None, env: dict | None = None) -> Config:
    """Read the file (if any), then apply environment overrides. Raises ConfigError."""
    env = os.environ if env is None else env
    path = path or env.get("TRIAGE_CONFIG")
    raw: dict = {}
    if path:
        raw = _read(Path(path))
    known = {f.name for f in fields(Config)}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{path}: unknown setting '{key}' (known: {', '.join(sorted(known))})")
    values = {k: v for k, v in raw.items() if k not in ("roles", "allowed_bots")}
    for var, name in _ENV.items():
        if env.get(var) not in (None, ""):
            values[name] = env[var]
    roles_raw = raw.get("roles") or {}
    if not isinstance(roles_raw, dict):
        raise ConfigError(f"{path}: 'roles' must be a table of moderators / ethics_leads")
    roles = {kind: _per_platform(roles_raw.get(kind), f"roles.{kind}", kind.upper(), path, env)
             for kind in ("moderators", "ethics_leads")}
    allowed_bots = _per_platform(raw.get("allowed_bots"), "allowed_bots", "ALLOWED_BOTS", path, env)
    try:
        return Config(
            database_url=values.get("database_url") or None,
            data_dir=Path(values["data_dir"]).expanduser() if values.get("data_dir") else None,
            store_text=_bool(values.get("store_text", False)),
            retention_days=int(values.get("retention_days", 180)),
            rate_per_minute=float(values.get("rate_per_minute", 10.0)),
            rate_burst=int(values.get("rate_burst", 10)),
            roles=Roles(**roles),
            allowed_bots=allowed_bots,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad setting: {exc}") from None


def _per_platform(per, name: str, env_kind: str, path, env) -> dict[str, frozenset[str]]:
    """Id lists keyed by platform, each overridable by TRIAGE_<KIND>_<PLATFORM>="a,b"."""
    per = per or {}
    if not isinstance(per, dict):
        raise ConfigError(f"{path}: {name} must map a platform to a list of ids")
    out = {}
    for platform in _PLATFORMS:
        ids = per.get(platform) or []
        if isinstance(ids, str):
            ids = [ids]
        override = env.get(_ROLE_ENV.format(kind=env_kind, platform=platform.upper()))
        if override is not None:
            ids = [i for i in override.replace(";", ",").split(",")]
        out[platform] = frozenset(str(i).strip() for i in ids if str(i).strip())
    return out


def _read(path: Path) -> dict:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"config {path} is not valid {'TOML' if path.suffix == '.toml' else 'YAML'}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a table of settings")
    return data


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a yes/no value: {value!r}")
