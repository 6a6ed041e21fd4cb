"""How one simulated AvidXchange tenant is set up: its tokens, their header names, the image size limit and the
rate limit."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from avid_sim.rate_limit import RateLimit

DEFAULT_MAX_IMAGE_BYTES = 25 * 1024 * 1024


class SimSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    company_token: SecretStr = Field(min_length=1)
    user_token: SecretStr = Field(min_length=1)
    company_header: str = Field(default="X-Company-Token", pattern=r"^[A-Za-z0-9-]+$")
    user_header: str = Field(default="X-User-Token", pattern=r"^[A-Za-z0-9-]+$")
    max_image_bytes: int = Field(default=DEFAULT_MAX_IMAGE_BYTES, ge=1)
    rate_limit: RateLimit | None = None
    """None: no rate limit (the default)."""
