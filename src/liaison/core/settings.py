"""One typed settings module: every ``LIAISON_*`` environment variable, with its meaning.

Insecure defaults are refused outside demo and test modes: a production node never runs with the
demo session key or data key. The README publishes these fields as a table.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SESSION_KEY = "demo-session-key-not-for-production"
# 32 zero bytes, base64: the refused demo data key.
DEMO_DATA_KEY = base64.b64encode(bytes(32)).decode()


class Mode(StrEnum):
    """How the node runs: ``production`` refuses every default secret."""

    PRODUCTION = "production"
    DEMO = "demo"
    TEST = "test"


class InsecureSettingsError(ValueError):
    """A secret was left at its default (or missing) outside demo and test modes."""


class Settings(BaseSettings):
    """Liaison's configuration, read from ``LIAISON_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="LIAISON_", env_file=None, extra="ignore")

    mode: Mode = Field(Mode.PRODUCTION, description="production, demo or test")
    database_url: str = Field(
        "sqlite:///var/liaison.db",
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://… in production",
    )
    session_key: SecretStr = Field(
        SecretStr(DEMO_SESSION_KEY), description="secret for session and CSRF tokens (≥ 32 chars)"
    )
    data_key: SecretStr = Field(
        SecretStr(DEMO_DATA_KEY), description="base64 of a 32-byte master key for data at rest"
    )
    data_key_file: Path | None = Field(
        None, description="file holding the base64 master key (overrides data_key)"
    )
    # Secret like the current key: kept out of reprs and logs.
    data_key_previous: SecretStr = Field(
        SecretStr(""),
        description=(
            "comma-separated base64 master keys that were replaced; still accepted to unwrap"
            " data keys until liaison keys rotate has re-wrapped them"
        ),
    )
    host: str = Field("127.0.0.1", description="address the web server binds to")
    port: int = Field(8000, ge=1, le=65535, description="port the web server binds to")
    cookie_secure: bool = Field(True, description="send session cookies over HTTPS only")
    session_max_age_minutes: int = Field(480, ge=5, description="idle session lifetime")
    token_max_days: int = Field(90, ge=1, description="longest lifetime of an API token")
    login_max_failures: int = Field(5, ge=1, description="failed logins before a lockout")
    login_lockout_minutes: int = Field(15, ge=1, description="lockout after too many failures")
    crime_areas_file: Path | None = Field(
        None, description="file with one crime-area code per line (default: Europol mandate)"
    )
    attachment_max_bytes: int = Field(50 * 1024 * 1024, ge=1, description="largest attachment")
    hit_report_deadline_hours: int = Field(12, ge=1, description="SIRENE answer deadline")
    alert_review_file: Path | None = Field(
        None,
        description="TOML file of review periods per alert category (default: 3 years each)",
    )
    crosscheck_in_background: bool = Field(
        True, description="run cross-checks in a background thread after each contribution"
    )
    hub_copy: bool = Field(False, description="the hub agency may read every message")
    refusal_grounds_file: Path | None = Field(
        None,
        description="file of refusal grounds, one code<TAB>text per line "
        "(default: Directive 2023/977 Art. 6)",
    )
    attachment_blocked_types: str = Field(
        "application/x-msdownload,application/x-dosexec,application/x-executable,"
        "application/x-elf,application/x-mach-binary,application/x-sharedlib,"
        "application/java-archive,application/x-msi,application/vnd.microsoft.portable-executable",
        description="comma-separated content types refused as attachments (detected from bytes)",
    )

    @model_validator(mode="after")
    def _refuse_defaults(self) -> Settings:
        if self.mode is not Mode.PRODUCTION:
            return self
        problems = []
        session_key = self.session_key.get_secret_value()
        if session_key == DEMO_SESSION_KEY or len(session_key) < 32:
            problems.append("LIAISON_SESSION_KEY must be set to a secret of at least 32 characters")
        try:
            key = self.master_key()
        except ValueError as exc:
            problems.append(str(exc))
        else:
            if key == bytes(32):
                problems.append("LIAISON_DATA_KEY (or LIAISON_DATA_KEY_FILE) must be set")
        if problems:
            raise InsecureSettingsError("; ".join(problems))
        return self

    def master_key(self) -> bytes:
        """The 32-byte master key for data at rest, from the key file or the setting."""
        raw = (
            self.data_key_file.read_text().strip()
            if self.data_key_file is not None
            else self.data_key.get_secret_value()
        )
        try:
            key = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("the data key must be base64") from exc
        if len(key) != 32:
            raise ValueError("the data key must decode to exactly 32 bytes")
        return key

    def previous_master_keys(self) -> list[bytes]:
        """The replaced 32-byte master keys still accepted for unwrapping, in the listed order."""
        keys = []
        listed = self.data_key_previous.get_secret_value()
        entries = [e.strip() for e in listed.split(",") if e.strip()]
        for number, entry in enumerate(entries, start=1):
            try:
                key = base64.b64decode(entry, validate=True)
            except (binascii.Error, ValueError):
                key = b""
            if len(key) != 32:
                raise ValueError(
                    f"LIAISON_DATA_KEY_PREVIOUS entry {number} must be base64 of exactly 32 bytes"
                )
            keys.append(key)
        return keys


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
