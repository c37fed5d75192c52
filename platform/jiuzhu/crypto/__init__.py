"""Cryptography of personal data and of the audit trail: keys outside the database, SM4-GCM field
encryption, HMAC-SM3 blind indexes (GB/T 32907 SM4, GB/T 32905 SM3, through ``cryptography``).

* :mod:`~jiuzhu.crypto.keys` — the key document (``JIUZHU_KEYS_FILE`` or ``JIUZHU_KEYS``): field,
  blind-index and audit keys, each with ids and an active key;
* :mod:`~jiuzhu.crypto.cipher` — SM4-GCM envelopes that name their key, HMAC-SM3;
* :mod:`~jiuzhu.crypto.types` — column types that encrypt, and blind indexes kept beside them;
* :mod:`~jiuzhu.crypto.rotation` — moving every value to the active key, online (``flask keys``).

``python -m jiuzhu.crypto generate FILE`` makes a key file; ``add-key`` rolls in a new key.
"""

from __future__ import annotations

from flask import Flask

from jiuzhu.crypto.keys import Keyring, load_keyring


def init_crypto(app: Flask) -> Keyring:
    """Load the keys (refusing to start without them) and check the encrypted columns' names."""
    from jiuzhu.crypto.types import check_contexts
    from jiuzhu.db import Base

    keys = load_keyring(app.config)
    app.extensions["jiuzhu.keys"] = keys
    check_contexts(Base.metadata)
    return keys


__all__ = ["init_crypto"]
