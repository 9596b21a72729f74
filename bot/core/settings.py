"""Settings from the environment (or a .env file), checked once at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.urls import parse_url

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")
# Telegram allows 1-256 of these characters; fewer than 24 can be guessed, and an empty one
# switches aiogram's check off: anyone could post updates as any user.
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{24,256}$")
MIN_DISTINCT = 10  # "aaaa...": long enough, but no secret
MAKE_SECRET = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
WECOM_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # CorpID, open_kfid
WECOM_AES_KEY_PATTERN = re.compile(r"^[A-Za-z0-9+/]{43}$")  # EncodingAESKey: 43 base64 characters
WECOM_DEFAULT_API_URL = "https://qyapi.weixin.qq.com/cgi-bin"


class SettingsError(ValueError):
    """A missing or malformed setting; the message is one line naming it."""


class Settings(BaseSettings):
    """Every setting the bot reads; see the README's table."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = Field(default=None, description="Telegram bot token from @BotFather")
    bot_username: str | None = Field(
        default=None, description="the bot's @username, for deep links on posters"
    )
    telegram_api_url: str | None = Field(default=None, description="Bot API server base URL")
    database_url: str | None = Field(default=None, description="sqlite:///path or postgresql://user@host/db")
    data_dir: Path = Field(default=Path("data"), description="where the SQLite file lives")
    webhook_url: str | None = Field(default=None, description="public HTTPS URL Telegram posts updates to")
    webhook_secret: SecretStr | None = Field(default=None, description="secret token Telegram must send")
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_path: str = "/telegram/webhook"
    log_level: str = "INFO"
    web_host: str = Field(default="127.0.0.1", description="where the web chat and HR console listen")
    web_port: int = Field(default=8090, ge=1, le=65535)
    web_base_url: str | None = Field(
        default=None, description="public base URL of the web pages (https://...); default http://host:port"
    )
    web_link_minutes: int = Field(
        default=15, ge=1, le=1440, description="console sign-in links last this long"
    )
    web_idle_minutes: int = Field(
        default=30, ge=1, le=1440, description="console sessions end after this idle"
    )
    data_key: SecretStr | None = Field(
        default=None,
        description="secret(s) encrypting personal numbers at rest; comma-separated, the first encrypts",
    )
    draft_expiry_days: int = Field(default=30, ge=1, description="unfinished dialogs are cleared after this")
    closed_retention_days: int = Field(
        default=730, ge=1, description="closed intent records (and idle households) are deleted after this"
    )
    # WeCom (bot/channels/wecom): the county's self-built app, and 微信客服 of the same organisation.
    wecom_corp_id: str | None = Field(default=None, description="企业ID (CorpID) of the county's WeCom")
    wecom_agent_id: int | None = Field(default=None, ge=1, description="AgentId of the self-built app")
    wecom_app_secret: SecretStr | None = Field(default=None, description="Secret of the self-built app")
    wecom_callback_token: SecretStr | None = Field(default=None, description="callback Token (接收消息)")
    wecom_callback_aes_key: SecretStr | None = Field(default=None, description="callback EncodingAESKey")
    wecom_kf_secret: SecretStr | None = Field(default=None, description="Secret of 微信客服")
    wecom_kf_open_kfid: str | None = Field(default=None, description="open_kfid of the county's 客服账号")
    wecom_kf_link: str | None = Field(default=None, description="the 客服 contact link, for posters")
    wecom_api_url: str = Field(default=WECOM_DEFAULT_API_URL, description="WeCom API base URL")
    # WeChat's 微工作台 (WeCom reached from plain WeChat) shows no template cards: "text" numbers them.
    wecom_app_choices: Literal["cards", "text"] = Field(
        default="cards", description="the app shows choices as template cards, or as numbered lines"
    )
    wecom_app_path: str = "/wecom/app"
    wecom_kf_path: str = "/wecom/kf"

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        """A token looks like 123456:ABC...; catch a pasted wrong value early."""
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not TOKEN_PATTERN.match(value.get_secret_value()):
            raise ValueError("does not look like a Telegram token (digits, a colon, then 20+ letters)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        """Refuse an empty or weak secret: it would let anyone post updates as any user."""
        if value is None:
            return None
        secret = value.get_secret_value()
        if not WEBHOOK_SECRET_PATTERN.match(secret) or len(set(secret)) < MIN_DISTINCT:
            raise ValueError(f"must be 24-256 varied characters of A-Z, a-z, 0-9, _ and - ({MAKE_SECRET})")
        return value

    @field_validator("telegram_api_url", "webhook_url", "web_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        """Base URLs must be http(s) without a trailing slash."""
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("wecom_corp_id", "wecom_kf_open_kfid")
    @classmethod
    def _wecom_id(cls, value: str | None) -> str | None:
        """CorpID and open_kfid are short ids of letters, digits, _ and -."""
        if value in (None, ""):
            return None
        if not WECOM_ID_PATTERN.match(value):
            raise ValueError("must be 1-64 letters, digits, _ or - (copy it from the WeCom admin console)")
        return value

    @field_validator("wecom_callback_aes_key")
    @classmethod
    def _wecom_aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        """The EncodingAESKey the admin console generates: 43 base64 characters."""
        if value is None or not value.get_secret_value():
            return None
        if not WECOM_AES_KEY_PATTERN.match(value.get_secret_value()):
            raise ValueError("must be the 43 letters and digits of the console's EncodingAESKey")
        return value

    @field_validator("wecom_api_url", "wecom_kf_link")
    @classmethod
    def _wecom_url(cls, value: str | None) -> str | None:
        """http(s) URLs without a trailing slash."""
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        """One of Python's logging levels, in any case."""
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
        return value.strip().upper()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        """Only the URLs the storage layer understands (sqlite:///..., postgresql://...)."""
        if value in (None, ""):
            return None
        parse_url(value)  # raises ValueError with a one-line reason
        return value

    @field_validator("data_key")
    @classmethod
    def _data_key(cls, value: SecretStr | None) -> SecretStr | None:
        """Each comma-separated secret must be long and varied enough; an empty value means unset."""
        if value is None or not value.get_secret_value().strip():
            return None
        from storage.crypto import weak_secret  # here: keeps settings free of `cryptography`

        if not _split_keys(value):  # only commas and blanks: a typo, not "unset"
            raise ValueError("no key between the commas")
        for item in _split_keys(value):
            problem = weak_secret(item)
            if problem:
                raise ValueError(problem)
        return value

    def cipher_secrets(self, *, required: bool = False) -> list[str]:
        """The DATA_KEY secrets, first one first; unset: a development key file in DATA_DIR (warns).

        `required` (Telegram, webhooks: real people's data) refuses the development key.
        """
        if self.data_key is not None:
            return _split_keys(self.data_key)
        if required:
            raise SettingsError(
                "setting DATA_KEY: required for Telegram and WeCom "
                f"(the development key is for the console and tests); {MAKE_SECRET}"
            )
        from storage.crypto import dev_secret

        return [dev_secret(self.data_dir)]

    def wecom_app_enabled(self) -> bool:
        """True when the WeCom app is configured; a partial configuration raises SettingsError."""
        if not _all_or_none(self, WECOM_APP_SETTINGS[:2]):
            return False
        return _all_or_none(self, WECOM_APP_SETTINGS)

    def wecom_kf_enabled(self) -> bool:
        """True when 微信客服 is configured (it shares the app's callback settings)."""
        if not _all_or_none(self, WECOM_KF_SETTINGS):
            return False
        missing = [name for name in WECOM_CALLBACK_SETTINGS if getattr(self, name) is None]
        if missing:
            raise SettingsError(f"setting {missing[0].upper()}: 微信客服 needs it too")
        return True

    @property
    def sqlite_default_url(self) -> str:
        """The embedded database used when DATABASE_URL is not set."""
        return f"sqlite:///{(self.data_dir / 'outreach.sqlite3').resolve()}"

    @property
    def web_url(self) -> str:
        """The base URL people open the web pages at (no trailing slash)."""
        return self.web_base_url or f"http://{self.web_host}:{self.web_port}"

    @property
    def db_url(self) -> str:
        """The database to use."""
        return self.database_url or self.sqlite_default_url


WECOM_CALLBACK_SETTINGS = ("wecom_corp_id", "wecom_callback_token", "wecom_callback_aes_key")
WECOM_APP_SETTINGS = ("wecom_agent_id", "wecom_app_secret", *WECOM_CALLBACK_SETTINGS)
WECOM_KF_SETTINGS = ("wecom_kf_secret", "wecom_kf_open_kfid")


def _all_or_none(settings: Settings, names: tuple[str, ...]) -> bool:
    """True when every named setting is set, False when none is; otherwise a one-line SettingsError."""
    given = [name for name in names if getattr(settings, name) is not None]
    if not given:
        return False
    missing = [name for name in names if name not in given]
    if missing:
        raise SettingsError(f"setting {missing[0].upper()}: needed with {given[0].upper()}")
    return True


def _split_keys(value: SecretStr) -> list[str]:
    """The comma-separated secrets of DATA_KEY, stripped, empty items dropped."""
    return [item.strip() for item in value.get_secret_value().split(",") if item.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read the settings, or raise SettingsError with one line naming the bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"setting {name}: {message}") from None
