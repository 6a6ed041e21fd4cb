"""The vendors stage function: one work order per message from its FIFO work queue."""

from ml_connector.handlers import work_handler
from ml_connector.stage import Stage

handler = work_handler(Stage.VENDORS)
