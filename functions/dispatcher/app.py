"""The dispatcher function: fired by EventBridge Scheduler; queues each enabled customer's due stages."""

from ml_connector.handlers.dispatcher import dispatcher_handler

handler = dispatcher_handler()
