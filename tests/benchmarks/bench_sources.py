"""Reader speed: a 30-shard safetensors folder (~1,000 tensors) and GGUF metadata, small and large files.

Run: uv run python tests/benchmarks/bench_sources.py
"""

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fixtures.model_files import hf_tensors, write_folder, write_gguf

from vramscope.sources.gguf_file import read_gguf
from vramscope.sources.hf_config import architecture_from_config
from vramscope.sources.hf_folder import read_model_folder

CONFIG = {  # Llama-3.1-70B's shapes: 80 layers, 723 tensors
    "model_type": "llama",
    "hidden_size": 8192,
    "intermediate_size": 28672,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "torch_dtype": "bfloat16",
}
SMALL = {
    **CONFIG,
    "hidden_size": 256,
    "intermediate_size": 512,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 128256,
}


def median_ms(fn: Callable[[], object], rounds: int = 20) -> float:
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        arch = architecture_from_config(CONFIG)
        folder = write_folder(root / "llama70b", CONFIG, hf_tensors(arch), shards=30)
        model = read_model_folder(folder)
        assert model.inventory is not None
        count = len(model.inventory.tensors)
        print(f"30-shard folder, {count} tensors: median {median_ms(lambda: read_model_folder(folder)):.1f} ms")
        for layers in (2, 80):
            a = architecture_from_config({**SMALL, "num_hidden_layers": layers})
            path = root / f"small-{layers}.gguf"
            write_gguf(path, a, vocab_tokens=128_256)  # a Llama-3-sized vocabulary to walk over
            print(
                f"GGUF, {layers} layers, 128,256-token vocabulary ({path.stat().st_size / 2**20:.0f} MiB): "
                f"median {median_ms(lambda p=path: read_gguf(p)):.1f} ms"
            )


if __name__ == "__main__":
    main()
