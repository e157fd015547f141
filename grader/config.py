"""The one settings object: environment variables with the GRADER_ prefix are the truth."""

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from grader.errors import InvalidSettings

DEFAULT_HOME = Path.home() / ".local" / "share" / "tinytorch-grader"
PLACEHOLDER_PASSBACK_SECRET = "development-only-passback-secret"
PLACEHOLDER_SECRETS = frozenset({"", "changethis", "changeme", "secret", PLACEHOLDER_PASSBACK_SECRET})


class SandboxSettings(BaseSettings):
    """Limits for one run of student code; every one is recorded with the run."""

    model_config = SettingsConfigDict(env_prefix="GRADER_SANDBOX_", extra="ignore")

    backend: str = Field(default="bwrap", description="bwrap (isolated) or process (rlimits only, for development)")
    pool: Literal["warm", "cold"] = Field(
        default="warm", description="warm: each worker process keeps one bubblewrap sandbox and forks every job "
                                    "from a pre-imported zygote in it; cold: a fresh sandbox per job")
    pool_max_jobs: int = Field(default=1000, ge=1, description="jobs one warm sandbox serves before it is replaced")
    warm_runtimes: int = Field(default=3, ge=1, le=16,
                               description="warm sandboxes one worker process keeps, one per assignment runtime "
                                           "(package) and sandbox shape; the least recently used is ended first")
    cpu_s: float = Field(default=20.0, description="CPU seconds of the notebook's import (each process)")
    wall_s: float = Field(default=60.0, description="wall seconds of the whole run; past it, unrun items time out")
    per_test_cpu_s: float = Field(default=5.0, description="CPU seconds of each locked test and probe")
    per_test_wall_s: float = Field(default=15.0, description="wall seconds of each locked test and probe")
    memory_mib: int = Field(default=1024, description="address space of every sandboxed process")
    max_processes: int = Field(default=16, description="processes and threads of one worker's uid, 4 of them "
                               "the sandbox's own: caps fork bombs and, times memory_mib, a run's memory")
    max_file_mib: int = Field(default=16, description="largest file a run may write")
    max_open_files: int = 128
    output_kib: int = Field(default=64, description="captured stdout and stderr, each (head and tail kept)")
    report_kib: int = Field(default=4096, description="the harness's report; a larger one makes every item error")
    tmp_mib: int = Field(default=64, description="the private tmpfs that is the run's only writable place")
    uid_base: int = Field(default=61000, description="first host uid a root worker drops to (one leased per process)")
    uid_count: int = Field(default=1000, description="how many uids from uid_base may be leased")
    runtime_dir: Path = Path("/var/tmp/tinytorch-grader-runtime")


class Settings(BaseSettings):
    """Process-wide configuration, read once by get_settings()."""

    model_config = SettingsConfigDict(env_prefix="GRADER_", extra="ignore")

    environment: str = "development"
    home: Path = DEFAULT_HOME
    database_url: str = ""
    broker_url: str = "redis://127.0.0.1:6379/0"
    max_upload_kib: int = 512
    bundle_max_kib: int = Field(default=16384, ge=1, description="largest assignment bundle archive an instructor "
                                "may publish (its unpacked size is capped separately, at 64 MiB)")
    bundle_cache_size: int = Field(default=8, ge=1, description="loaded assignment versions one process keeps, by "
                                   "content hash; the least recently used is dropped first")
    run_lease_s: int = Field(default=300, description="a queued or running run untouched this long is sent again; "
                             "well above two full runs (wall cap + grace, and the one timeout re-run)")
    check_lease_s: int = Field(default=900, description="an uploaded version still `checking` this long after its "
                               "check was sent is sent again (a check grades the solution ~1,500 times)")
    run_max_attempts: int = Field(default=6, description="claims of one run before it ends `error`")
    sweep_interval_s: float = Field(default=30.0, description="how often Celery beat asks for the stale-run sweep")
    task_max_retries: int = Field(default=8, description="Celery retries of one task on transient infra errors")
    task_retry_backoff_s: float = Field(default=2.0, description="first retry delay; doubles each retry, with jitter")
    task_retry_backoff_max_s: float = Field(default=120.0, description="cap of one retry delay")
    log_level: str = "INFO"
    passback_secret: str = Field(default=PLACEHOLDER_PASSBACK_SECRET,
                                 description="HMAC-SHA256 key that signs every LMS callback; a placeholder is "
                                             "refused outside development")
    passback_timeout_s: float = Field(default=10.0, description="one callback request, connect to last byte")
    passback_retry_base_s: float = Field(default=30.0,
                                         description="first passback retry delay; doubles each attempt")
    passback_retry_max_s: float = Field(default=3600.0, description="cap of one passback retry delay")
    passback_max_attempts: int = Field(default=10, description="callback attempts before the delivery is given up")
    passback_relay_interval_s: float = Field(default=5.0,
                                             description="how often `grader passback relay` retries due rows")
    passback_allowed_networks: list[str] = Field(
        default_factory=list, description="private networks (CIDR, JSON list) a callback_url may reach; public "
                                          "addresses are always allowed, loopback/private/link-local only if listed")
    submit_rate_per_minute: float = Field(default=60.0, description="sustained submissions per minute per API token")
    submit_burst: int = Field(default=30,
                              description="submissions one API token may post at once before it is throttled")
    ratelimit_url: str = Field(default="", description="Redis for the shared token buckets; empty: the broker when "
                                                       "it is Redis, else per process")
    dashboard_secret: str = Field(default="", description="key that signs dashboard session cookies; empty: derived "
                                  "from passback_secret (itself refused outside development when a placeholder)")
    dashboard_cookie_secure: bool = Field(default=True, description="send dashboard cookies over HTTPS only; turn off "
                                          "only to use the dashboard over plain http on a development machine")
    dashboard_session_hours: float = Field(default=8.0, gt=0, description="how long a dashboard sign-in lasts")
    lti_key_secret: str = Field(default="", description="Fernet key (urlsafe base64, 32 bytes) that encrypts the "
                                "LTI tool's private keys at rest; empty: derived from passback_secret")
    lti_public_url: str = Field(default="", description="the tool's public base URL (https://grader.example); "
                                "empty: taken from each request")
    lti_leeway_s: int = Field(default=60, ge=0, le=300, description="clock skew allowed on id_token exp/iat")
    lti_login_ttl_s: int = Field(default=600, description="how long an OIDC login's state and nonce stay usable")
    lti_upload_hours: float = Field(default=4.0, gt=0, description="how long a launch's upload form accepts files")
    lti_jwks_lifespan_s: float = Field(default=300.0, gt=0, description="how long a platform's JWKS is cached")
    lti_jwks_cooldown_s: float = Field(default=30.0, ge=0, description="least time between two refetches of a "
                                       "platform's JWKS for an unknown kid (a forged kid cannot flood it)")
    lti_token_margin_s: float = Field(default=60.0, ge=0, description="an AGS access token is renewed this long "
                                      "before its expires_in")
    lti_token_cache_url: str = Field(default="", description="Redis shared by workers for AGS access tokens; "
                                     "empty: the broker when it is Redis, else per process")
    lti_key_overlap_hours: float = Field(default=168.0, ge=0, description="a rotated-out tool key stays in the "
                                         "JWKS this long, for platforms that cache it")
    sandbox: SandboxSettings = Field(default_factory=lambda: SandboxSettings())

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> "Settings":
        """Outside development a guessable signing key would let anyone forge a grade, so refuse to start."""
        if self.environment != "development" and (self.passback_secret in PLACEHOLDER_SECRETS
                                                  or len(self.passback_secret) < 16):
            raise ValueError("GRADER_PASSBACK_SECRET must be set to a random value of at least 16 characters "
                             f"outside development (environment is {self.environment!r})")
        return self

    @field_validator("passback_allowed_networks")
    @classmethod
    def _networks_parse(cls, cidrs: list[str]) -> list[str]:
        """A typo in a network must stop the server at start, not fail every upload later."""
        for cidr in cidrs:
            ipaddress.ip_network(cidr, strict=False)
        return cidrs

    @model_validator(mode="after")
    def _refuse_weak_dashboard_secret(self) -> "Settings":
        """A short explicit dashboard key would let anyone forge an instructor session, so refuse to start."""
        if self.environment != "development" and self.dashboard_secret and (
                self.dashboard_secret in PLACEHOLDER_SECRETS or len(self.dashboard_secret) < 16):
            raise ValueError("GRADER_DASHBOARD_SECRET must be empty (derived from the passback secret) or a random "
                             f"value of at least 16 characters outside development (environment is "
                             f"{self.environment!r})")
        return self

    @property
    def effective_database_url(self) -> str:
        """SQLite under the grader home unless a database URL is configured."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'grader.db'}"


def _variable(model: str, location: tuple[int | str, ...]) -> str:
    prefixes = {cls.__name__: str(cls.model_config.get("env_prefix", "")) for cls in (Settings, SandboxSettings)}
    return prefixes.get(model, "GRADER_") + "_".join(str(part) for part in location).upper()


def describe_settings_error(exc: ValidationError) -> str:
    """One line per problem naming the environment variable and what it needs, never the value (it may be a secret)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        location = tuple(error.get("loc", ()))
        problems.append(f"{_variable(exc.title, location)}: {message}" if location else message)
    return "invalid settings: " + "; ".join(problems)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once; later calls share the same object. A bad value is InvalidSettings, by name."""
    try:
        return Settings()
    except ValidationError as exc:
        raise InvalidSettings(describe_settings_error(exc)) from None
