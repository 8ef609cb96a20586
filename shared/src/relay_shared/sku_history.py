"""The contract of a run's ``sku_history.csv`` (pricing writes it from the change history it
owns; the gateway's read model loads it): its columns, the kinds of change, and how long
either side keeps a SKU's changes."""

from __future__ import annotations

#: ``sku_history.csv``'s header, in order (prices in cents, quantities as integers; a side
#: the change does not have is empty)
HISTORY_COLUMNS = ("sku", "change", "price_old", "price_new", "quantity_old", "quantity_new")
#: the ``change`` column's values
CHANGES = frozenset({"added", "removed", "changed"})
#: days a SKU's price and quantity changes are kept, in pricing's history and the gateway's
RETENTION_DAYS = 400
