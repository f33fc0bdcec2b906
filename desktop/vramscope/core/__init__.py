"""The shared calculation module: pure functions over frozen values. No Qt, no NVML, no I/O."""
