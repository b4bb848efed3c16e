"""sweeps: many variants of one instance solved (spec, run on a pool or Dask, plots)."""
