"""mlc: the operator CLI for ml-connector (customers, secrets, ping, runs, status, failures, audit, DLQ replay)."""
