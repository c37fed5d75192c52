"""The audit trail: an append-only record of who changed what, hash-chained per tenant.

* :mod:`~jiuzhu.audit.context` — who is acting (a ContextVar, set per request or job);
* :mod:`~jiuzhu.audit.capture` — the :class:`Audited` mixin: every flush of an audited model
  appends insert/update/delete events automatically;
* :mod:`~jiuzhu.audit.services` — :func:`record` for semantic events, :func:`verify` for the chain;
* :mod:`~jiuzhu.audit.chain` — the one place that appends to a chain and computes hashes.

Services import ``record`` from here: ``from jiuzhu.audit import record``.
"""

from jiuzhu.audit.services import Break, BreakKind, check_chain, record, verify

__all__ = ["Break", "BreakKind", "check_chain", "record", "verify"]
