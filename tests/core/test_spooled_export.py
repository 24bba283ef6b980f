"""core.export.spooled: an export is read to its end before its first byte is sent, so
a slow download holds no database connection or snapshot (reports and supplies exports
use it)."""

from __future__ import annotations

from passtrace.core import export


def test_the_source_is_read_to_its_end_before_anything_is_sent(monkeypatch):
    monkeypatch.setattr(export, "SPOOL_IN_MEMORY", 1000)  # the rest goes to a disk file
    monkeypatch.setattr(export, "SPOOL_BLOCK", 700)
    finished = []

    def source():
        for i in range(100):
            yield f"row {i:04d}\n".encode()
        finished.append(True)  # where a session would be done reading

    sent = export.spooled(source())
    assert finished == [True]
    blocks = list(sent)
    assert b"".join(blocks) == b"".join(f"row {i:04d}\n".encode() for i in range(100))
    assert max(len(b) for b in blocks) == 700  # sent on in blocks, not in one piece


def test_a_failing_source_fails_before_the_response_starts():
    def source():
        yield b"header\n"
        raise RuntimeError("the database went away")

    try:
        export.spooled(source())
    except RuntimeError as exc:
        assert "went away" in str(exc)
    else:
        raise AssertionError("an export that failed to read was about to be sent")
