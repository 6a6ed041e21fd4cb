"""Messages on the per-stage FIFO work queues."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ml_connector.stage import Stage


class WorkOrder(BaseModel):
    """Run ``stage`` for ``customer_id``; then queue ``then`` (the rest of the cycle, in order).

    ``continuation`` is set when a stage ran out of time and queued itself to go on where it stopped; its cursor
    is in the state table, so the message only says that this is a continuation and which one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    stage: Stage
    cycle_id: str = Field(min_length=1, max_length=64)
    then: tuple[Stage, ...] = ()
    continuation: int = Field(default=0, ge=0)

    @property
    def deduplication_id(self) -> str:
        return f"{self.customer_id}:{self.stage}:{self.cycle_id}:{self.continuation}"

    def continued(self) -> WorkOrder:
        return self.model_copy(update={"continuation": self.continuation + 1})

    def next_in_cycle(self) -> WorkOrder | None:
        if not self.then:
            return None
        return WorkOrder(customer_id=self.customer_id, stage=self.then[0], cycle_id=self.cycle_id, then=self.then[1:])
