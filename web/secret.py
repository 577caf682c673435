"""The Flask secret key: read from ``site.secret_key_file``, generated on first run.

There is no fallback secret in code (style.md). The file is created with mode 0600 and
exclusively (O_EXCL), so two processes starting at once cannot each write a different key:
the loser reads the winner's key.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)


def load_or_create_secret(path: str | Path) -> str:
    """Return the secret key stored at ``path``, creating it (64 hex chars, 0600) if missing.

    Raises OSError when the file cannot be read or created, and ValueError when it exists
    but is empty or too short to be a key.
    """
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race; read its key below
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(key + "\n")
            log.info("generated a new secret key in %s", p)
            return key
    key = p.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise ValueError(f"{p}: secret key file is empty or shorter than 32 characters")
    return key
