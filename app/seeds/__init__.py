"""Data builders: the demo dataset (`demo`) and the benchmarks' scale dataset (`scale`)."""
