"""Participation's writes, one module per area (``wishes``, ``orders``); re-exported here."""

from .wishes import (  # noqa: F401
    wish_claim, wish_collect, wish_fulfil, wish_publish, wish_reject, wish_release, wish_thank, wish_verify,
)
from .orders import (  # noqa: F401
    order_cancel, order_complete, order_dispatch, order_open, order_place, order_rate, order_take, service_item_save,
)
from .party import dual_confirm, dual_decline, dual_register  # noqa: F401
