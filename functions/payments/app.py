"""The payments stage function: one work order per message from its FIFO work queue."""

from ml_connector.handlers.work import work_handler
from ml_connector.kinds import Stage
from ml_connector.stages.payments import post_payments

handler = work_handler(Stage.PAYMENTS, post_payments)
