"""The CLI fixtures (in-process ``mlc`` against the session's local stack) for the CLI's security tests."""

from tests.cli.conftest import customer_id, deployment, mlc, stack_file

__all__ = ["customer_id", "deployment", "mlc", "stack_file"]
