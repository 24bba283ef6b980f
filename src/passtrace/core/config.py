"""Typed settings read from the environment (PASSTRACE_ prefix)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET = "passtrace-dev-secret-change-me"
# Secrets that may also be read from a file named by PASSTRACE_<NAME>_FILE, so
# production can mount them (Docker/Kubernetes secrets) instead of exporting them.
FILE_SECRETS = ("secret_key", "pii_key", "pii_hash_key", "pii_previous_keys", "key_wrap_key",
                "database_url", "gateway_signing_secret", "trust_root_passphrase")
# The keys a real deployment must set itself, each for one purpose (docs/security.md).
EXPLICIT_KEYS = ("secret_key", "pii_key", "pii_hash_key", "key_wrap_key")


# A week at most: contact search and verification bound the stays they scan by the longest
# configured cap (tracing.colocation.stay_bound), so a longer cap widens every index range
# they read; nobody stays at a gate or venue unseen for longer than that.
MAX_STAY_CAP_HOURS = 168


def parse_kind_hours(value: Any, *, low: int, high: int) -> dict[str, int]:
    """Read "12", 12, "default=12,venue=4" or a mapping as {kind: hours}, "default" always set."""
    if isinstance(value, int) and not isinstance(value, bool):
        pairs: dict[str, Any] = {"default": value}
    elif isinstance(value, dict):
        pairs = dict(value)
    elif isinstance(value, str):
        pairs = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            kind, sep, hours = part.rpartition("=")
            pairs[kind.strip() if sep else "default"] = hours.strip()
    else:
        raise ValueError("expected hours, or kind=hours pairs separated by commas")
    result = {"default": 12}
    for kind, hours in pairs.items():
        try:
            number = int(hours)
        except (TypeError, ValueError):
            raise ValueError(f"{kind}: {hours!r} is not a whole number of hours") from None
        if not low <= number <= high or not kind:
            raise ValueError(f"{kind or '?'}: hours must be {low}-{high}")
        result[kind] = number
    return result


class Settings(BaseSettings):
    """Everything a deployment can configure; fails loudly on bad values."""

    model_config = SettingsConfigDict(env_prefix="PASSTRACE_", extra="ignore")

    env: Literal["dev", "demo", "test", "prod"] = "dev"
    database_url: str = "sqlite:///./var/passtrace.db"
    # Sessions and CSRF only; rotating it logs everyone out and touches no stored data.
    secret_key: str = DEFAULT_SECRET
    # AES-GCM key for ID numbers, names and phones (each ciphertext names its key);
    # previous keys, comma-separated, still decrypt while `keys rotate-pii` runs.
    pii_key: str | None = None
    pii_previous_keys: str = ""
    # The keyed hash that finds a person by ID number; it never rotates.
    pii_hash_key: str | None = None
    # Wraps the pass-signing private keys stored in the database.
    key_wrap_key: str | None = None
    # The trust-list root private key (PEM): a file read only by the commands that sign
    # trust lists (`passtrace keys sign-trust-list`), never by the server, and never
    # kept in the database. Demo and test generate one in data_dir when unset.
    trust_root_key_file: str | None = None
    # The passphrase that encrypts that file (PKCS#8, AES-256-CBC with scrypt); the
    # commands that sign ask for it when run at a terminal and this is unset.
    trust_root_passphrase: str | None = None
    # After `keys rotate-list` the old list key stays in the trust list this long, so a
    # revocation list it signed still verifies until a checkpoint fetches a fresh one.
    list_key_overlap_hours: int = Field(default=24, ge=1, le=24 * 30)
    # Where demo and test keep files they generate (the trust-list root key).
    data_dir: str = "var"
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    api_token_hours: int = Field(default=24, ge=1, le=24 * 90)
    login_max_failures: int = Field(default=5, ge=1, le=100)
    # Officials and admins must log in with a TOTP code as well (docs/security.md, "The
    # second factor"). Always on in prod, whatever this says; optional elsewhere.
    second_factor_required: bool = False
    # argon2 cost; tests lower it, production keeps the library defaults.
    argon2_time_cost: int = Field(default=3, ge=1, le=10)
    argon2_memory_kib: int = Field(default=65536, ge=8, le=1048576)
    pass_max_days: int = Field(default=30, ge=1, le=366)
    household_pass_days: int = Field(default=180, ge=1, le=730)
    # The job runner (docs/jobs.md) looks for residents newly overdue this often (0: off;
    # cron can run `passtrace community overdue` instead).
    overdue_sweep_seconds: int = Field(default=120, ge=0, le=86400)
    # The job runner renews household passes expiring within this many days, this often.
    household_pass_renew_days: int = Field(default=30, ge=1, le=365)
    household_renewal_seconds: int = Field(default=3600, ge=0, le=7 * 86400)
    # The job runner sends daily-report reminders this often (0: off; cron can run
    # `passtrace reports remind`).
    reminders_seconds: int = Field(default=600, ge=0, le=86400)
    # Retention (docs/security.md): registrations, outings, daily reports and their
    # stops, visits, deliveries, notices and identity attempts are deleted this many days
    # after their date; expired login sessions retention_session_days after expiry.
    retention_days: int = Field(default=28, ge=1, le=3660)
    retention_session_days: int = Field(default=7, ge=0, le=3660)
    # A closed case, with its contacts, their tracing tasks and its history, is deleted
    # this many days after it was closed (an open case never is).
    case_retention_days: int = Field(default=180, ge=1, le=3660)
    # Stays (docs/tracing.md): an "in" at a gate, enterprise gate or venue with no "out"
    # is assumed to last this many hours, per site kind: "12" (every kind) or
    # "default=12,venue=4" (kinds not named take the default). registrations.stays checks
    # the kinds' names when it is configured.
    stay_cap_hours: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=lambda: {"default": 12})
    # Rows deleted per transaction: small enough that a gate registration waiting for the
    # SQLite write lock (or the audit chain lock) waits well under a second.
    retention_batch_size: int = Field(default=500, ge=1, le=100_000)
    # How often the job runner deletes what fell due (0: off; cron can run
    # `passtrace retention run`).
    retention_seconds: int = Field(default=3600, ge=0, le=7 * 86400)
    # PostgreSQL: registrations are partitioned by day; the job runner (and each
    # retention run) makes today's partition and this many days' ahead, this often
    # (0: off; `passtrace retention run` from cron makes them too).
    registration_partitions_ahead_days: int = Field(default=2, ge=1, le=366)
    registration_partitions_seconds: int = Field(default=3600, ge=0, le=7 * 86400)
    # How often the job runner looks for registrations partitions whose planner
    # statistics are stale (changed by 10 % since their last ANALYZE) and analyses them
    # (0: off; then only autovacuum does).
    registration_analyze_seconds: int = Field(default=5, ge=0, le=86400)
    # How often the job runner vacuums the dashboard's delta tables and analyses the
    # tables written all day when they need it (jobs/upkeep.py; PostgreSQL only; 0: off,
    # leaving it to autovacuum, if it is on).
    table_upkeep_seconds: int = Field(default=60, ge=0, le=86400)
    # How often the job runner verifies yesterday's and today's daily reports against
    # registrations (0: off; cron can run `passtrace verify reports`).
    verify_seconds: int = Field(default=3600, ge=0, le=7 * 86400)
    # How often the job runner anchors the audit log's side lanes on its main chain
    # (audit/lanes.py): the longest a side lane's newest entries go unanchored (0: off;
    # cron can run `passtrace audit anchor`).
    audit_anchor_seconds: int = Field(default=60, ge=0, le=86400)
    # Early warning (docs/warnings.md): how often the job runner runs the windowed rules
    # over yesterday and today, and scans newly declared risk areas (0: off; cron can
    # run `passtrace warnings run`).
    warnings_seconds: int = Field(default=300, ge=0, le=86400)
    # How often unacknowledged alerts past their SLA are escalated one area up.
    alert_escalate_seconds: int = Field(default=300, ge=0, le=86400)
    # An alert not acknowledged this many minutes after it was raised (or last
    # escalated) moves to the officials of the next area up.
    alert_sla_high_minutes: int = Field(default=60, ge=1, le=10080)
    alert_sla_medium_minutes: int = Field(default=240, ge=1, le=10080)
    alert_sla_low_minutes: int = Field(default=1440, ge=1, le=10080)
    # How often the job runner brings people.status (what checkpoints read) in step
    # with health flags that ran out (0: off).
    health_sweep_seconds: int = Field(default=300, ge=0, le=86400)
    # How long an official has to decide a person's appeal against a health flag.
    health_appeal_hours: int = Field(default=72, ge=1, le=30 * 24)
    # The Parquet lake `passtrace lake export` writes and the analytics page's jobs read.
    lake_dir: str = "var/lake"
    # Where the analytics page's results are kept (pseudonymised Parquet, one per run).
    analytics_results_dir: str = "var/analytics"
    # How often the job runner folds the dashboard's hourly registration counts (the
    # figures are exact either way; unfolded counts only make the dashboard read more).
    dashboard_fold_seconds: int = Field(default=60, ge=0, le=86400)
    # How often the job runner hashes phones stored before people.phone_hash existed
    # (people/phone_backfill.py; once they are all filled a run reads nothing; 0: off).
    phone_backfill_seconds: int = Field(default=600, ge=0, le=86400)
    # How often the job runner looks for analytics runs officials asked for (0: off).
    analytics_seconds: int = Field(default=10, ge=0, le=86400)
    # How often the job runner looks for outbox messages due to leave.
    jobs_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Largest request body accepted; checkpoint batch uploads have their own, larger limit.
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=512 * 1_048_576)
    batch_max_bytes: int = Field(default=16 * 1_048_576, ge=1024, le=512 * 1_048_576)
    # A device clock further off than this is flagged on its registrations.
    clock_skew_seconds: int = Field(default=120, ge=5, le=86400)
    sql_echo: bool = False
    # Daily reports: how many days back a report may still be filed.
    report_backfill_days: int = Field(default=3, ge=0, le=30)
    # Notices (reminders, overdue residents) also go to this gateway (WeCom ...) as JSON,
    # through the outbox, when set.
    notify_webhook_url: str | None = None
    # SMS messages ({"phone", "text"}) are POSTed to this gateway through the outbox.
    sms_gateway_url: str | None = None
    # Both gateways get X-PassTrace-Signature, an HMAC-SHA256 keyed with this secret
    # (docs/jobs.md); required when either URL is set.
    gateway_signing_secret: str | None = None
    gateway_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Outbox delivery: give up after this many attempts, waiting backoff_s * 2^(n-1)
    # (at most max_backoff_s) between them; a claim is leased for lease_s.
    outbox_max_attempts: int = Field(default=8, ge=1, le=50)
    outbox_backoff_s: float = Field(default=30.0, ge=0, le=3600)
    outbox_max_backoff_s: float = Field(default=3600.0, ge=0, le=86400)
    outbox_lease_s: float = Field(default=120.0, ge=1, le=3600)

    # Unusual access (the supervisors' page): this many reveals by one actor within this
    # many minutes, and any reveal outside working hours (local, Monday to Friday).
    unusual_reveals_count: int = Field(default=20, ge=2, le=10000)
    unusual_reveals_minutes: int = Field(default=60, ge=1, le=1440)
    # Reveals in clear (docs/security.md): at most this many per user per clock hour,
    # counted in the database so every worker shares the count; at the alert count the
    # supervisors over the user's area get a notice. A reason needs a purpose from the
    # list and at least reveal_reason_min_chars characters of text.
    reveal_limit_per_hour: int = Field(default=30, ge=1, le=10000)
    reveal_alert_count: int = Field(default=15, ge=1, le=10000)
    reveal_reason_min_chars: int = Field(default=8, ge=1, le=200)
    # Contact tracing (docs/tracing.md): quarantine until the last exposure's local date plus
    # this many days; stays at one site count as a contact when they overlap by at least
    # this many minutes, per site kind (kinds not named: 0, touching stays count).
    contact_quarantine_days: int = Field(default=14, ge=1, le=60)
    contact_stay_overlap_minutes: dict[str, int] = Field(default_factory=dict)
    # Revoking more passes than this at once needs a second official's approval.
    mass_revocation_threshold: int = Field(default=10, ge=1, le=100000)
    working_hours_start: int = Field(default=8, ge=0, le=23)
    working_hours_end: int = Field(default=20, ge=1, le=24)

    @field_validator("stay_cap_hours", mode="before")
    @classmethod
    def _parse_stay_caps(cls, value: Any) -> dict[str, int]:
        return parse_kind_hours(value, low=1, high=MAX_STAY_CAP_HOURS)

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        data = dict(data or {})
        for name in FILE_SECRETS:
            path = os.environ.get(f"PASSTRACE_{name.upper()}_FILE")
            if path and name not in data:
                data[name] = Path(path).read_text(encoding="utf-8").strip()
        return data

    @model_validator(mode="after")
    def _refuse_default_secret_outside_dev(self) -> Settings:
        # Only a developer's machine and the throwaway demo may run on the public default.
        if self.env not in ("dev", "demo"):
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "PASSTRACE_SECRET_KEY must be set to a random value of 32+ characters "
                    "outside dev/demo"
                )
            for name in ("pii_key", "pii_hash_key", "key_wrap_key"):
                value = getattr(self, name)
                if value is not None and len(value) < 32:
                    raise ValueError(f"PASSTRACE_{name.upper()} must be 32+ characters")
        if self.env == "prod":
            missing = self.missing_explicit_keys()
            if missing:
                raise ValueError(
                    "production needs its own key for each purpose; set "
                    + ", ".join(f"PASSTRACE_{n.upper()}" for n in missing)
                    + " (see docs/security.md). A deployment upgrading from one key: set "
                    "PASSTRACE_PII_KEY and PASSTRACE_PII_HASH_KEY to the old value of "
                    "PASSTRACE_PII_KEY (or, if it was unset, PASSTRACE_SECRET_KEY)")
            # One value may serve the encryption and lookup keys (an upgrade from a single
            # PII key keeps its hashes that way); no other two purposes may share a key.
            values = {self.secret_key, self.pii_key or "", self.key_wrap_key or ""}
            if len(values) < 3 or self.pii_hash_key in (self.secret_key, self.key_wrap_key):
                raise ValueError("each PASSTRACE_*_KEY must be a different random value")
        if (self.notify_webhook_url or self.sms_gateway_url) and (
                not self.gateway_signing_secret or len(self.gateway_signing_secret) < 32):
            # An unsigned body would let anyone who can reach the gateway send SMS as us.
            raise ValueError("PASSTRACE_GATEWAY_SIGNING_SECRET must be set (32+ characters) "
                             "when a webhook or SMS gateway URL is set")
        if self.outbox_lease_s <= self.gateway_timeout_s:
            # A lease shorter than a send lets a second runner re-send a slow message.
            raise ValueError("PASSTRACE_OUTBOX_LEASE_S must exceed PASSTRACE_GATEWAY_TIMEOUT_S")
        return self

    def missing_explicit_keys(self) -> list[str]:
        """Name the purpose keys left to built-in defaults or fallbacks."""
        return [name for name in EXPLICIT_KEYS
                if getattr(self, name) in (None, "", DEFAULT_SECRET)]

    @property
    def pii_encryption_key(self) -> str:
        """The current personal-data encryption key (falls back only outside prod)."""
        return self.pii_key or self.secret_key

    @property
    def pii_previous_key_list(self) -> list[str]:
        """Older encryption keys that still decrypt."""
        return [k.strip() for k in self.pii_previous_keys.split(",") if k.strip()]

    @property
    def pii_lookup_key(self) -> str:
        """The lookup-hash key; before keys were separated it was the PII key."""
        return self.pii_hash_key or self.pii_encryption_key

    @property
    def signing_wrap_key(self) -> str:
        """The key that wraps pass-signing private keys."""
        return self.key_wrap_key or self.pii_encryption_key

    @property
    def trust_root_path(self) -> Path | None:
        """The root key's file: as set, or generated in data_dir by demo and test."""
        if self.trust_root_key_file:
            return Path(self.trust_root_key_file)
        if self.env in ("demo", "test"):
            return Path(self.data_dir) / "trust-root.pem"
        return None

    @property
    def signs_trust_lists_itself(self) -> bool:
        """Demo and test only: the server re-signs a stale trust list with the root file."""
        return self.env in ("demo", "test")

    @property
    def second_factor_enforced(self) -> bool:
        """Whether officials and admins hold their roles only with a second factor."""
        return self.env == "prod" or self.second_factor_required

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the database is the embedded SQLite default."""
        return self.database_url.startswith("sqlite")
