"""events/ holds a realistic sample event for every function, in the shape the function parses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.data_classes import SQSEvent

from ml_connector.kinds import Stage
from ml_connector.messages import RecordRetry, WorkOrder
from ml_local.template import load_sam_template, resources_of_type

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_every_function_in_the_template_has_a_sample_event() -> None:
    functions = {
        resource["Properties"]["CodeUri"].strip("/").split("/")[-1]
        for _, resource in resources_of_type(load_sam_template(), "AWS::Serverless::Function")
    }
    assert {path.stem for path in EVENTS.glob("*.json")} == functions


@pytest.mark.parametrize("stage", list(Stage))
def test_stage_events_are_sqs_fifo_batches_of_one_work_order(stage: Stage) -> None:
    event = SQSEvent(json.loads((EVENTS / f"{stage}.json").read_text()))
    (record,) = event.records
    order = WorkOrder.model_validate_json(record.body)
    assert order.stage is stage
    assert record.attributes.message_group_id == order.customer_id
    assert record.event_source_arn.endswith(f"-{stage}.fifo")


def test_the_retry_event_carries_record_retries() -> None:
    event = SQSEvent(json.loads((EVENTS / "retry.json").read_text()))
    retries = [RecordRetry.model_validate_json(r.body) for r in event.records]
    assert [(r.kind, r.source_key) for r in retries] == [("invoice", "01-ACME/10045"), ("payment", "P-7781234")]
    for record in event.records:
        # A retry travels by key alone: the record is read again from its source, so no record data rides along.
        assert set(json.loads(record.body)) == {
            "customer_id",
            "stage",
            "kind",
            "source_key",
            "reason",
            "first_failed_at",
        }


def test_a_retry_written_before_records_travelled_by_key_still_reads() -> None:
    old = {"customer_id": "redrock", "stage": "vendors", "kind": "vendor", "source_key": "01-BLANK", "reason": "r",
           "record": None, "sealed_record": {"ciphertext": "x"}, "first_failed_at": "2026-11-24T14:01:03Z"}  # fmt: skip
    retry = RecordRetry.model_validate(old)
    assert (retry.kind, retry.source_key) == ("vendor", "01-BLANK")
    assert "sealed_record" not in retry.model_dump()


def test_dispatcher_and_ping_events() -> None:
    assert json.loads((EVENTS / "dispatcher.json").read_text()) == {"source": "ml-connector.schedule"}
    assert json.loads((EVENTS / "ping.json").read_text())["customer_id"] == "redrock"
