"""Runners for the pipeline's map stage. The Detector asks an engine only to map a picklable
function over batches, in order; grouping stays in the pipeline. A distributed engine
implements the same ``map``."""

from .local import LocalEngine

__all__ = ["LocalEngine"]
