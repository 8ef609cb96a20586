"""The tenant's ``guard`` section: how far a new config may move the merged feed before its
activation is refused (``PUT …/config?require_preview={id}`` answers 409 naming the numbers,
unless an owner adds ``force=true``).

```yaml
guard:
  max_price_change_pct: 15     # the largest price change of a SKU, up or down, in percent
  max_rows_removed_pct: 2      # SKUs the preview removes, in percent of the current feed
  max_oos_flips_pct: 5         # SKUs whose stock flips (in to out, or out to in), same base
```

Each limit is optional; a limit not set is not checked. Percentages are of the latest
successful run's row count (a tenant without one has nothing to compare: nothing is refused).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

#: The largest limit accepted (a price may move more than 100 %: a $1 item repriced to $5).
MAX_GUARD_PCT = Decimal(100_000)


class GuardConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_price_change_pct: Decimal | None = Field(default=None, ge=0, le=MAX_GUARD_PCT)
    max_rows_removed_pct: Decimal | None = Field(default=None, ge=0, le=100)
    max_oos_flips_pct: Decimal | None = Field(default=None, ge=0, le=100)
