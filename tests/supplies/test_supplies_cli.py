"""passtrace supplies import / export from the command line (both databases): the row
report and exit codes, re-running adds nothing, the export file is 0600 and audited."""

from __future__ import annotations

import csv
import io
import stat

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from passtrace.audit.models import AuditEntry
from passtrace.cli.files import os_user
from passtrace.cli.main import app
from passtrace.core.runtime import Runtime
from tests.supplies.helpers import depot, fresh, on_hand

runner = CliRunner()


@pytest.fixture
def cli_env(committed_rt: Runtime, committed_url: str, monkeypatch):  # type: ignore[no-untyped-def]
    s = committed_rt.settings
    monkeypatch.setenv("PASSTRACE_ENV", s.env)
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", committed_url)
    monkeypatch.setenv("PASSTRACE_SECRET_KEY", s.secret_key.get_secret_value()
                       if hasattr(s.secret_key, "get_secret_value") else str(s.secret_key))
    return committed_rt


def test_import_items_and_stock_then_export_them(cli_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rt = cli_env
    with rt.sessions() as s:
        d = depot(s, area_code="520111")
        s.commit()
        code = d.code
    name = f"外科口罩{fresh()}"
    items = tmp_path / "items.csv"
    items.write_text(f"物资名称,类别,单位\n{name},口罩,只\n坏{name},chairs,把\n",
                     encoding="utf-8")
    refused = runner.invoke(app, ["supplies", "import", "items", str(items)])
    assert refused.exit_code == 2 and "nothing stored" in refused.output, refused.output
    done = runner.invoke(app, ["supplies", "import", "items", str(items), "--valid-rows"])
    assert done.exit_code == 0 and "1 items created" in done.output, done.output
    sheet = tmp_path / "stock.csv"
    sheet.write_text(f"库点编码,物资名称,批号,有效期至,数量\n{code},{name},=1+1,2027-06-30,80\n",
                     encoding="utf-8")
    first = runner.invoke(app, ["supplies", "import", "stock", str(sheet)])
    assert first.exit_code == 0 and "1 lots loaded (80 units)" in first.output, first.output
    again = runner.invoke(app, ["supplies", "import", "stock", str(sheet)])
    assert again.exit_code == 0 and "0 lots loaded (0 units), 1 already there" in again.output
    missing = runner.invoke(app, ["supplies", "import", "stock", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2
    with rt.sessions() as s:
        from passtrace.supplies.models import Depot, SupplyItem
        d = s.scalar(select(Depot).where(Depot.code == code))
        it = s.scalar(select(SupplyItem).where(SupplyItem.name == name))
        assert on_hand(s, d, it) == 80
    out = tmp_path / "stock-report.csv"
    exported = runner.invoke(app, ["supplies", "export", "stock", "-o", str(out),
                                   "--depot", code])
    assert exported.exit_code == 0, exported.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    header, *rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r[0], r[3], r[5], r[7]) for r in rows] == [(code, name, "'=1+1", "80")]
    with rt.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "supplies.export.stock")
                          .order_by(AuditEntry.id.desc())).first()
        assert entry is not None and entry.detail["os_user"] == os_user()
        assert entry.detail["file"] == str(out) and entry.detail["rows"] == 1
    bad = runner.invoke(app, ["supplies", "export", "ledger", "-o", str(out), "--since", "x"])
    assert bad.exit_code == 2
    unknown = runner.invoke(app, ["supplies", "export", "ledger", "-o", str(out),
                                  "--actor", "nobody-here"])
    assert unknown.exit_code == 1
