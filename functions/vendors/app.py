"""The vendors stage function: one work order per message from its FIFO work queue."""

from ml_connector.handlers.work import work_handler
from ml_connector.kinds import Stage
from ml_connector.stages.vendors import sync_vendors

handler = work_handler(Stage.VENDORS, sync_vendors)
