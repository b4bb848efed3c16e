"""analysis: questions asked of a solved plan (marginal costs, binding limits, break-even, VSS/EVPI, baselines)."""
