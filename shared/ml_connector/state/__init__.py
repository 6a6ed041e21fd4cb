"""What the connector remembers per customer: run status, cursors, key mappings, claims, audit trail, failures."""
