"""mlc customer put|validate|show|list|enable|disable|schema: the customer items."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from ml_cli.arguments import customer_id, deployment_from
from ml_cli.commands import Commands, SharedOptions
from ml_cli.deployment import Deployment
from ml_cli.errors import BadInput, OperationFailed
from ml_cli.output import print_json, table
from ml_connector.adapters.secrets import secret_binding_problem
from ml_connector.customers import Customer, InvalidCustomer, describe_validation_error


def customer_json_schema() -> dict[str, Any]:
    """The JSON Schema of a customer item (committed as schemas/customer.schema.json)."""
    return Customer.model_json_schema()


def register(commands: Commands, shared: SharedOptions) -> None:
    group = commands.add_parser(
        "customer",
        help="put, validate, show, list, enable or disable customer items",
        description="Customer items in the customers table, validated by the same model the functions use.",
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")

    put = actions.add_parser(
        "put",
        parents=[shared.target],
        help="validate FILE.json and write it as the customer's item",
        description="Validate FILE.json (a customer item, see schemas/customer.schema.json) and write it; an invalid "
        "file is reported field by field (exit 2) and nothing is written.",
    )
    put.add_argument("file", type=Path, metavar="FILE.json")
    put.set_defaults(handler=put_customer)

    validate = actions.add_parser(
        "validate",
        help="check FILE.json without writing anything (no target needed)",
        description="Validate FILE.json against the customer model; exit 2 with one line per problem if invalid.",
    )
    validate.add_argument("file", type=Path, metavar="FILE.json")
    validate.set_defaults(handler=validate_customer)

    show = actions.add_parser(
        "show", parents=[shared.target], help="print one customer item", description="Print one customer item."
    )
    show.add_argument("customer_id", type=customer_id, metavar="ID")
    show.set_defaults(handler=show_customer)

    listing = actions.add_parser(
        "list",
        parents=[shared.target, shared.as_json],
        help="every customer item, the invalid ones with their problems",
        description="Every customer item; invalid ones (skipped by the dispatcher) are listed with their problems.",
    )
    listing.set_defaults(handler=list_customers)

    for action, enabled in (("enable", True), ("disable", False)):
        toggle = actions.add_parser(
            action,
            parents=[shared.target],
            help=f"{action} a customer (the dispatcher {'schedules' if enabled else 'skips'} it)",
            description=f"Set enabled={str(enabled).lower()} on a customer item.",
        )
        toggle.add_argument("customer_id", type=customer_id, metavar="ID")
        toggle.set_defaults(handler=set_enabled, enabled=enabled)

    schema = actions.add_parser(
        "schema",
        help="print the customer item's JSON Schema",
        description="Print the JSON Schema of a customer item (regenerate schemas/customer.schema.json with it).",
    )
    schema.set_defaults(handler=print_schema)


def load_customer_file(path: Path) -> Customer:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except OSError as error:
        raise BadInput(f"{path}: cannot read it ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise BadInput(f"{path}: not JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
    if not isinstance(raw, dict):
        raise BadInput(f"{path}: a customer item is a JSON object, not {type(raw).__name__}")
    try:
        return Customer.model_validate(raw)
    except ValidationError as error:
        raise BadInput(*(f"{path}: {problem}" for problem in describe_validation_error(error))) from None


def check_secret_binding(customer: Customer, deployment: Deployment) -> None:
    """A customer may use only its own secret, ``<SecretPrefix><customer_id>``; the functions refuse any other."""
    problem = secret_binding_problem(customer, deployment.secret_prefix)
    if problem is not None:
        raise BadInput(f"secret_arn: {problem}")


def put_customer(args: argparse.Namespace) -> int:
    customer = load_customer_file(args.file)
    deployment = deployment_from(args)
    check_secret_binding(customer, deployment)
    deployment.customers().put(customer)
    print(f"customer {customer.customer_id} written to {deployment.customers_table}")
    if not secret_exists(deployment, customer.secret_arn):
        print(
            f"note: secret {customer.secret_arn} does not exist; create it with "
            f"`mlc secrets put {customer.customer_id}`"
        )
    return 0


def secret_exists(deployment: Deployment, secret_arn: str) -> bool:
    try:
        deployment.client("secretsmanager").describe_secret(SecretId=secret_arn)
    except ClientError as error:
        if error.response["Error"].get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True


def validate_customer(args: argparse.Namespace) -> int:
    customer = load_customer_file(args.file)
    print(f"{args.file}: valid customer {customer.customer_id}")
    return 0


def known_customer(deployment: Deployment, customer_id: str) -> Customer | InvalidCustomer:
    """The customer's item, valid or not; exit 1 if there is none (a typo must not look like "nothing found")."""
    found = deployment.customers().get(customer_id)
    if found is None:
        raise OperationFailed(
            f"no customer {customer_id} in {deployment.customers_table} (`mlc customer list` shows them)"
        )
    return found


def existing_customer(deployment: Deployment, customer_id: str) -> Customer:
    """The customer's item, which must exist and be valid (commands that act on it need its configuration)."""
    found = known_customer(deployment, customer_id)
    if isinstance(found, InvalidCustomer):
        raise OperationFailed(
            f"customer {customer_id} is invalid: {'; '.join(found.problems)}; fix it with `mlc customer put`"
        )
    return found


def show_customer(args: argparse.Namespace) -> int:
    customer = existing_customer(deployment_from(args), args.customer_id)
    print_json(customer.model_dump(mode="json", exclude_none=True))
    return 0


def list_customers(args: argparse.Namespace) -> int:
    valid, invalid = deployment_from(args).customers().load()
    valid.sort(key=lambda c: c.customer_id)
    invalid.sort(key=lambda c: c.customer_id)
    if args.json:
        print_json(
            {
                "valid": [
                    {"customer_id": c.customer_id, "display_name": c.display_name, "enabled": c.enabled} for c in valid
                ],
                "invalid": [c.model_dump() for c in invalid],
            }
        )
        return 0
    rows = [[c.customer_id, "enabled" if c.enabled else "disabled", c.display_name] for c in valid]
    rows += [[c.customer_id, "INVALID", "; ".join(c.problems)] for c in invalid]
    print(table(["customer", "status", "name / problems"], rows) if rows else "no customers")
    return 0


def set_enabled(args: argparse.Namespace) -> int:
    deployment = deployment_from(args)
    customer = existing_customer(deployment, args.customer_id)
    if customer.enabled != args.enabled:
        deployment.customers().put(customer.model_copy(update={"enabled": args.enabled}))
    print(f"customer {customer.customer_id} {'enabled' if args.enabled else 'disabled'}")
    return 0


def print_schema(args: argparse.Namespace) -> int:
    print(json.dumps(customer_json_schema(), indent=2))
    return 0
