"""An analytics run an official asked for: the history of who ran what, and its result."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base, IdMixin

STATUSES = ("queued", "running", "done", "failed")


class AnalyticsRun(IdMixin, Base):
    """One job over the lake, asked for on the page and run by the job runner.

    The result file holds pseudonymised rows only (persons as keyed hashes); it is kept
    under PASSTRACE_ANALYTICS_RESULTS_DIR, named by the run's id.
    """

    __tablename__ = "analytics_runs"
    __table_args__ = (
        # The runner's claim looks for the oldest queued run.
        Index("ix_analytics_runs_status", "status", "requested_at"),
        Index("ix_analytics_runs_requested_at", "requested_at"),
        Index("ix_analytics_runs_area_scope", "area_scope", "requested_at"),
    )

    job: Mapped[str] = mapped_column(String(24))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    engine: Mapped[str] = mapped_column(String(8), default="duckdb")
    status: Mapped[str] = mapped_column(String(8), default="queued")
    progress: Mapped[int] = mapped_column(SmallInteger, default=0)  # percent
    # The area the run is confined to (the common prefix of its areas; "" = city-wide):
    # officials over that area see the run in their history, others do not.
    area_scope: Mapped[str] = mapped_column(String(12), default="", server_default="")
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    rows: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
