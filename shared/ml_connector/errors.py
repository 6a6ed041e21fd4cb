"""One exception hierarchy that tells the caller how to react.

- ``RetryLater``: a passing condition (lock, busy, rate limit, 5xx, transport); retry with back-off,
  then send the record to the retry queue.
- ``RecordRejected``: this record is wrong as it stands; retrying will not help until its data changes.
- ``CustomerUnavailable``: stop this customer's run (bad credentials, agent offline, bad configuration);
  other customers carry on.

Messages never contain secrets: adapters scrub tokens and keys before raising.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ml_connector.domain.sage import RecordedManualCheck


class ConnectorError(Exception):
    """Base of every error the connector raises on purpose."""


class RetryLater(ConnectorError):
    """A transient failure: try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RecordRejected(ConnectorError):
    """This record cannot be synced as it is; fail it (audited), do not retry blindly."""


class CustomerUnavailable(ConnectorError):
    """This customer's run cannot go on (credentials, connectivity, configuration)."""


class OutcomeUnknown(RetryLater):
    """A non-idempotent write may or may not have happened (timeout or dropped connection after sending).

    Look the record up before trying again; never blindly repeat the write.
    """


class AgentOffline(CustomerUnavailable):
    """The customer's Sage 100 agent cannot be reached (connection refused, DNS, TLS handshake failure)."""


class AgentAuthFailed(CustomerUnavailable):
    """The agent refused the agent key (401)."""


class AgentTlsFailed(CustomerUnavailable):
    """The agent's certificate does not match the customer's TLS settings (pin, CA bundle or system CAs)."""


class AgentContractViolation(CustomerUnavailable):
    """The agent answered something this connector does not understand (wrong version or a bug)."""


class CompanyNotServed(CustomerUnavailable):
    """The agent does not serve the customer's Sage company code (404 ``company_not_found``)."""


class AvidAuthFailed(CustomerUnavailable):
    """AvidConnect refused the company or user token (401/403)."""


class AvidContractViolation(CustomerUnavailable):
    """AvidConnect answered something this connector does not understand."""


@dataclass(frozen=True)
class FieldError:
    """One field-level message from a refused write: which field, and why."""

    field: str
    message: str


class SageRequestRejected(RecordRejected):
    """The agent refused the request as malformed (400 ``bad_request``)."""


class SageValidationFailed(RecordRejected):
    """Sage 100 (BOI) refused the write (422 ``validation_failed``); ``fields`` says which fields and why."""

    def __init__(self, message: str, *, fields: list[FieldError]) -> None:
        super().__init__(message)
        self.fields = fields


class SageRecordInvalid(RecordRejected):
    """A record the agent returned breaks Sage's own rules (field length, date); it cannot be synced as is."""


class AvidRejected(RecordRejected):
    """AvidConnect refused the record (400/404/422); the message carries AvidXchange's reason."""


class PaymentAlreadyExists(ConnectorError):
    """A manual check with this BankCode+CheckNo is already recorded in Sage (409); ``existing`` is that check.

    The caller compares it with what it meant to post: a match means already posted, anything else fails the record.
    """

    def __init__(self, message: str, *, existing: RecordedManualCheck) -> None:
        super().__init__(message)
        self.existing = existing
