"""The base of every response model, and what several routers share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    """A response body: a key the model does not declare is an error, not a silent drop."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class JurisdictionRef(Out):
    code: str
    name: str
    level: str


class Health(Out):
    status: str = Field(description="ok 或 error")
    database: str = Field(description="数据库方言（postgresql、sqlite），不可连接时为 unreachable")
