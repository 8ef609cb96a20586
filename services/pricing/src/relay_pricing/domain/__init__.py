"""Pure merge, pricing and run assembly. Public entry point: :func:`build_run_outputs`."""

from relay_pricing.domain.run import MISSING, FeedInput, RunOutputs, VendorFeed, build_run_outputs

__all__ = ["MISSING", "FeedInput", "RunOutputs", "VendorFeed", "build_run_outputs"]
