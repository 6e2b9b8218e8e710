"""Participation's pages, one module per area (``wishes``, ``orders``)."""

from .wishes import m_home, m_wish_new, wish_detail, wish_list, wish_new, wish_step  # noqa: F401
from .orders import m_order_new, order_detail, order_list, order_step, service_list  # noqa: F401
from .party import dual_decide, dual_list, dual_register  # noqa: F401
