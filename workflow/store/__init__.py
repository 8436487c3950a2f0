"""Storage: SQLAlchemy models, the database handle, the audit log.

Every module that defines tables is imported here so that one metadata holds them all.
"""

from workflow.store import models  # noqa: F401  (isort: the engine's tables first)
from workflow.store.db import Database  # noqa: F401

# isort: split
from workflow.store import auth, candidates, notices, render_jobs, tally_entries, voters  # noqa: F401
