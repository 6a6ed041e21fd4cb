"""boto3 clients pointed at the local moto server (real HTTP, real clients)."""

from __future__ import annotations

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
