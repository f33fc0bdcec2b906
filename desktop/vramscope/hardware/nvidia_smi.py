"""A node's GPUs from the output of `nvidia-smi --query-gpu=index,name,memory.total,memory.used --format=csv`
(a file or a paste), so a cluster can be planned from a laptop. Text only: nothing in it is run."""

import csv
import re

from vramscope.core.scenario import GpuSpec
from vramscope.core.units import MIB
from vramscope.hardware.catalog import find_gpu

QUERY = "nvidia-smi --query-gpu=index,name,memory.total,memory.used --format=csv"
MAX_TEXT = 1 << 20  # a node's listing is a few hundred bytes
MAX_GPUS = 1024
MAX_MIB = 1 << 24  # 16 TiB: past any GPU
COLUMNS = ("index", "name", "memory.total", "memory.used")  # the order without a header
_NUMBER = re.compile(r"(\d{1,9})(?:\s*MiB)?")


class NvidiaSmiError(ValueError):
    """Text that is not nvidia-smi's CSV listing, with what to run instead."""


def read_nvidia_smi(text: str) -> tuple[GpuSpec, ...]:
    """The GPUs listed, planned at their free memory (total minus used), in the listing's order."""
    if len(text) > MAX_TEXT:
        raise NvidiaSmiError(f"that is {len(text):,} characters: {QUERY} prints a few lines")
    rows = [row for row in csv.reader(text.strip().splitlines(), skipinitialspace=True) if any(c.strip() for c in row)]
    if not rows:
        raise NvidiaSmiError(f"no GPUs listed: paste what {QUERY} prints")
    columns: tuple[str, ...] = COLUMNS
    if any(cell.strip().lower().startswith("memory.") for cell in rows[0]):  # the header names the columns
        columns = tuple(cell.split("[")[0].strip().lower() for cell in rows[0])
        rows = rows[1:]
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        raise NvidiaSmiError(f"the listing has no {', '.join(missing)} column: run {QUERY}")
    if not rows or len(rows) > MAX_GPUS:
        raise NvidiaSmiError(f"{len(rows):,} GPUs listed: a node has 1 to {MAX_GPUS:,}")
    short = next((n for n, row in enumerate(rows, 1) if len(row) < len(columns)), None)
    if short is not None:
        raise NvidiaSmiError(
            f"line {short} has {len(rows[short - 1])} of the {len(columns)} columns ({', '.join(columns)}): "
            f"is it what {QUERY} prints?"
        )
    return tuple(_gpu(dict(zip(columns, (c.strip() for c in row), strict=False)), n + 1) for n, row in enumerate(rows))


def _gpu(cells: dict[str, str], line: int) -> GpuSpec:
    name = cells.get("name", "")
    if not name or len(name) > 100 or not name.isprintable():
        raise NvidiaSmiError(f"GPU {line}: no name nvidia-smi would print")
    index, total, used = (_mib(cells.get(c, ""), c, line) for c in ("index", "memory.total", "memory.used"))
    if not total or used > total or index >= MAX_GPUS:
        raise NvidiaSmiError(f"GPU {line} ({name}): {used:,} MiB used of {total:,} MiB is not a reading")
    known = find_gpu(name)
    held = used * MIB
    return GpuSpec(
        name=name,
        capacity_bytes=(total - used) * MIB,
        total_bytes=total * MIB,
        held_bytes=held,
        held_note="in use when nvidia-smi ran" if held else "",
        bandwidth_bytes_per_s=known.bandwidth_gbps * 1e9 if known else None,
        bf16_flops=known.bf16_tflops * 1e12 if known and known.bf16_tflops else None,
        device=str(index),
    )


def _mib(cell: str, column: str, line: int) -> int:
    match = _NUMBER.fullmatch(cell)
    if match is None or int(match[1]) > MAX_MIB:
        shown = cell[:40] or "nothing"
        raise NvidiaSmiError(f"GPU {line}: {column} reads {shown!r}, not a number ({QUERY})")
    return int(match[1])
