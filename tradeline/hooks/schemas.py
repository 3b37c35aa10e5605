from datetime import datetime
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class EndpointIn(StrictSchema):
    url: str = Field(..., min_length=1, max_length=500, description="https://… (http://localhost in development)")
    events: list[str] = Field(..., min_length=1, max_length=10, description="event types to receive")
    description: str = Field("", max_length=200)


class EndpointUpdateIn(StrictSchema):
    url: str | None = Field(None, min_length=1, max_length=500)
    events: list[str] | None = Field(None, min_length=1, max_length=10)
    description: str | None = Field(None, max_length=200)
    enabled: bool | None = None


class RotateSecretIn(StrictSchema):
    overlap_seconds: int | None = Field(None, ge=0, le=604_800,
                                        description="how long the old secret keeps signing (default 24 h)")


class EndpointOut(Schema):
    id: UUID
    url: str
    description: str
    events: list[str]
    status: str
    disabled_at: datetime | None
    disabled_reason: str
    consecutive_failures: int
    previous_secret_expires_at: datetime | None
    created_at: datetime


class EndpointSecretOut(EndpointOut):
    secret: str = Field(..., description="whsec_…: shown only in this response")


class DeliveryOut(Schema):
    id: UUID
    event_id: str
    event_type: str
    endpoint_id: UUID
    status: str
    attempts: int
    response_status: int | None
    response_body: str
    duration_ms: int | None
    error: str
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
