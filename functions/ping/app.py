"""The ping function: checks one customer's agent and AvidConnect with its real credentials (operator CLI)."""

from ml_connector.handlers.ping import ping_handler

handler = ping_handler()
