"""boto3 clients pointed at the local moto server (real HTTP, real clients)."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

LOCAL_REGION = "us-east-1"
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class LocalAws:
    endpoint_url: str
    region: str = LOCAL_REGION

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=self.region, **LOCAL_CREDENTIALS)

    def resource(self, service: str) -> Any:
        return boto3.resource(service, endpoint_url=self.endpoint_url, region_name=self.region, **LOCAL_CREDENTIALS)

    def environment(self) -> dict[str, str]:
        """What a process needs in its environment so that its own boto3 clients reach this moto server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
        }


@dataclass(frozen=True)
class SqsClockClient:
    """The local moto server's SQS clock (see ``ml_local.moto_clock``)."""

    endpoint_url: str

    def now(self) -> float:
        return float(self._call("GET", "/_ml_local/clock")["now"])

    def skip_to_next_visible(self, queue_names: list[str], max_seconds: float) -> float | None:
        """Move the clock to when the first hidden message of these queues becomes visible (if within
        ``max_seconds``); the seconds skipped, or None when nothing is hidden that soon."""
        answer = self._call("POST", "/_ml_local/clock/skip", {"queues": queue_names, "max_seconds": max_seconds})
        skipped = answer["skipped"]
        return None if skipped is None else float(skipped)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the local moto server's own address
            self.endpoint_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
        return answer
