"""template.yaml, translated offline from SAM to CloudFormation exactly as `sam deploy` would see it."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
ARTIFACT_BUCKET = "ml-connector-local-artifacts"

# moto's CloudFormation skips these types silently; the local stack creates them itself.
SKIPPED_BY_MOTO = frozenset(
    {"AWS::Scheduler::Schedule", "AWS::CloudWatch::Alarm", "AWS::SecretsManager::Secret", "AWS::SNS::Subscription"}
)


@dataclass(frozen=True)
class CodeArtifact:
    """A function's or layer's source folder and the S3 key it is uploaded under."""

    logical_id: str
    source_dir: Path
    s3_key: str


class _NoManagedPolicies:
    """The translator asks IAM for AWS managed policy ARNs; offline, the template uses none by name."""

    def load(self) -> dict[str, str]:
        return {}


def load_sam_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse(path.read_text(encoding="utf-8"))
    return parsed


def code_artifacts(sam_template: dict[str, Any]) -> list[CodeArtifact]:
    artifacts = []
    for logical_id, resource in sam_template["Resources"].items():
        props = resource.get("Properties", {})
        uri = {
            "AWS::Serverless::Function": props.get("CodeUri"),
            "AWS::Serverless::LayerVersion": props.get("ContentUri"),
        }.get(resource["Type"])
        if isinstance(uri, str):
            artifacts.append(CodeArtifact(logical_id, REPO_ROOT / uri, f"{logical_id}.zip"))
    return artifacts


def translate(sam_template: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """Return the CloudFormation template with code URIs pointing at the local artifact bucket."""
    template = copy.deepcopy(sam_template)
    for artifact in code_artifacts(template):
        props = template["Resources"][artifact.logical_id]["Properties"]
        key = "CodeUri" if "CodeUri" in props else "ContentUri"
        props[key] = f"s3://{ARTIFACT_BUCKET}/{artifact.s3_key}"
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region  # the translator reads the region from the environment
    try:
        translated: dict[str, Any] = transform(template, {}, _NoManagedPolicies())
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
    return translated


def resources_of_type(template: dict[str, Any], *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in types:
            yield logical_id, resource
