"""The base of every pydantic model in the connector."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A pydantic model whose validator and serializer are built on first use, not when its module is imported: a
    function builds only the models it touches, which keeps cold starts short (most models serve other functions)."""

    model_config = ConfigDict(defer_build=True)
