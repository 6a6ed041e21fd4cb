"""The alarm topic (SNS) that the AP team and operators subscribe to: where new kinds of failure are published."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from ml_connector.model import Model


class AlertSettings(Model):
    """The stage functions' own environment variable (template.yaml)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    alarm_topic_arn: str = Field(alias="ALARM_TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")


class SnsAlertTopic:
    def __init__(self, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def publish(self, subject: str, message: str) -> None:
        self._sns.publish(TopicArn=self._topic_arn, Subject=subject, Message=message)
