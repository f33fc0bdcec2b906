"""Model readers: presets, config.json, safetensors headers, GGUF -> Architecture. Parsing only."""
