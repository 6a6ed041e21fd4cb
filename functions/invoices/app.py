"""The invoices stage function: one work order per message from its FIFO work queue."""

from ml_connector.handlers.work import work_handler
from ml_connector.kinds import Stage
from ml_connector.stages.invoices import push_invoices

handler = work_handler(Stage.INVOICES, push_invoices)
