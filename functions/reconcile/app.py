"""The reconcile function: a customer's scheduled reconciliation, or its onboarding preview (the dispatcher queues
both)."""

from ml_connector.handlers.review import review_handler

handler = review_handler()
