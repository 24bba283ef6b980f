"""Files the CLI writes with personal data: readable by their owner only, and who wrote them."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import BinaryIO


def private_file(path: Path) -> BinaryIO:
    """Open `path` for writing, mode 0600 (also when it existed with a wider mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: narrow it
    return os.fdopen(fd, "wb")


def os_user() -> str:
    """The operating-system account running the command (for the audit entry)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a bare container): the uid
        return str(os.getuid())
