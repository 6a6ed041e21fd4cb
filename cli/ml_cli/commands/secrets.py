"""mlc secrets put: a customer's credentials into Secrets Manager, encrypted with the connector's key."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from botocore.exceptions import ClientError
from pydantic import ValidationError

from ml_cli.arguments import customer_id, deployment_from
from ml_cli.commands import Commands, SharedOptions
from ml_cli.deployment import Deployment
from ml_cli.errors import BadInput
from ml_cli.output import print_json
from ml_connector.adapters.secrets import CUSTOMER_TAG, CustomerSecrets, secret_name_for
from ml_connector.customers import Customer, describe_validation_error

# (secret field, file option, environment variable): values come from files or the environment, never from argv,
# so they stay out of shell history and process listings.
SECRET_SOURCES = (
    ("agent_key", "--agent-key-file", "MLC_AGENT_KEY"),
    ("avid_company_token", "--avid-company-token-file", "MLC_AVID_COMPANY_TOKEN"),
    ("avid_user_token", "--avid-user-token-file", "MLC_AVID_USER_TOKEN"),
)


def register(commands: Commands, shared: SharedOptions) -> None:
    group = commands.add_parser(
        "secrets", help="store a customer's credentials", description="A customer's credentials in Secrets Manager."
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    put = actions.add_parser(
        "put",
        parents=[shared.target, shared.as_json],
        help="create or update the customer's secret",
        description="Create or update the secret <SecretPrefix><ID> (encrypted with the connector's KMS key) from "
        "files, or from the environment variables "
        + ", ".join(env for _, _, env in SECRET_SOURCES)
        + " (never from command-line values). Prints the secret's ARN and, if the customer's item exists, sets its "
        "secret_arn. Secret values are never printed.",
    )
    put.add_argument("customer_id", type=customer_id, metavar="ID")
    for field, option, env in SECRET_SOURCES:
        put.add_argument(
            option, type=Path, metavar="FILE", dest=f"{field}_file", help=f"file holding {field} (or ${env})"
        )
    put.set_defaults(handler=put_secrets)


def read_secret_values(args: argparse.Namespace) -> CustomerSecrets:
    values: dict[str, str] = {}
    missing: list[str] = []
    for field, option, env in SECRET_SOURCES:
        path: Path | None = getattr(args, f"{field}_file")
        if path is not None:
            try:
                values[field] = path.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise BadInput(f"{option} {path}: cannot read it ({error.strerror})") from None
        elif os.environ.get(env):
            values[field] = os.environ[env].strip()
        else:
            missing.append(f"{option} FILE or ${env}")
    if missing:
        raise BadInput("missing " + ", ".join(missing))
    try:
        return CustomerSecrets.model_validate(values)
    except ValidationError as error:
        raise BadInput(*describe_validation_error(error)) from None


def store_customer_secret(deployment: Deployment, customer_id: str, secrets: CustomerSecrets) -> str:
    """Create or update ``<prefix><customer_id>``, encrypted with the connector key and tagged with the customer id
    (the functions use a secret only for the customer it is named and tagged for); returns the secret's ARN."""
    client = deployment.client("secretsmanager")
    name = secret_name_for(customer_id, deployment.secret_prefix)
    tags = [{"Key": CUSTOMER_TAG, "Value": customer_id}]
    body = json.dumps({field: getattr(secrets, field).get_secret_value() for field, _, _ in SECRET_SOURCES})
    try:
        created = client.create_secret(
            Name=name,
            KmsKeyId=deployment.connector_key_arn,
            SecretString=body,
            Description=f"ml-connector credentials of customer {customer_id}",
            Tags=tags,
        )
        return str(created["ARN"])
    except ClientError as error:
        if error.response["Error"].get("Code") != "ResourceExistsException":
            raise
    updated = client.update_secret(SecretId=name, KmsKeyId=deployment.connector_key_arn, SecretString=body)
    client.tag_resource(SecretId=name, Tags=tags)
    return str(updated["ARN"])


def put_secrets(args: argparse.Namespace) -> int:
    secrets = read_secret_values(args)
    deployment = deployment_from(args)
    arn = store_customer_secret(deployment, args.customer_id, secrets)
    directory = deployment.customers()
    found = directory.get(args.customer_id)
    if isinstance(found, Customer):
        if found.secret_arn != arn:
            directory.put(found.model_copy(update={"secret_arn": arn}))
        note = f"customer {args.customer_id}'s secret_arn is set to it"
    elif found is None:
        note = f"no customer item {args.customer_id} yet: use this ARN as its secret_arn"
    else:
        note = f"customer item {args.customer_id} is invalid ({'; '.join(found.problems)}): set secret_arn yourself"
    if args.json:
        print_json(
            {"customer_id": args.customer_id, "secret_arn": arn, "customer_updated": isinstance(found, Customer)}
        )
    else:
        print(arn)
        print(note)
    return 0
