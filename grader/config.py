"""The one settings object: environment variables with the GRADER_ prefix are the truth."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path.home() / ".local" / "share" / "tinytorch-grader"


class SandboxSettings(BaseSettings):
    """Limits for one run of student code; every one is recorded with the run."""

    model_config = SettingsConfigDict(env_prefix="GRADER_SANDBOX_", extra="ignore")

    backend: str = Field(default="bwrap", description="bwrap (isolated) or process (rlimits only, for development)")
    cpu_s: float = 20.0
    wall_s: float = 60.0
    per_test_cpu_s: float = 5.0
    memory_mib: int = 1024
    max_processes: int = 64
    max_file_mib: int = 16
    max_open_files: int = 128
    output_kib: int = 64
    report_kib: int = 4096
    tmp_mib: int = 64
    uid_base: int = 61000
    runtime_dir: Path = Path("/var/tmp/tinytorch-grader-runtime")


class Settings(BaseSettings):
    """Process-wide configuration, read once by get_settings()."""

    model_config = SettingsConfigDict(env_prefix="GRADER_", extra="ignore")

    environment: str = "development"
    home: Path = DEFAULT_HOME
    database_url: str = ""
    broker_url: str = "redis://127.0.0.1:6379/0"
    max_upload_kib: int = 512
    run_lease_s: int = 300
    sandbox: SandboxSettings = Field(default_factory=lambda: SandboxSettings())

    @property
    def effective_database_url(self) -> str:
        """SQLite under the grader home unless a database URL is configured."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'grader.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once; later calls share the same object."""
    return Settings()
