"""Storage: SQLAlchemy models, the database handle, the audit log.

Every module that defines tables is imported here so that one metadata holds them all.
"""

import workflow.store.auth  # noqa: F401  (service logins)
from workflow.store import models  # noqa: F401
from workflow.store.db import Database  # noqa: F401
