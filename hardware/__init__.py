"""Hardware drivers: bytes in, events out; commands in, bytes out. No decisions here."""
