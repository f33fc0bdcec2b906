"""What GPUs this machine has (NVML probe, fallbacks) and the catalog of known GPUs."""
