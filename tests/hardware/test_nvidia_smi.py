"""A node's GPUs read from nvidia-smi's CSV listing, as printed with and without a header and units."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vramscope.core.units import MIB
from vramscope.hardware.nvidia_smi import NvidiaSmiError, read_nvidia_smi

# nvidia-smi --query-gpu=index,name,memory.total,memory.used --format=csv on a DGX H100 node
LISTING = """index, name, memory.total [MiB], memory.used [MiB]
0, NVIDIA H100 80GB HBM3, 81559 MiB, 1 MiB
1, NVIDIA H100 80GB HBM3, 81559 MiB, 4100 MiB
"""


def test_the_listing_becomes_gpus_at_their_free_memory() -> None:
    first, second = read_nvidia_smi(LISTING)
    assert (first.name, first.device, first.total_bytes) == ("NVIDIA H100 80GB HBM3", "0", 81559 * MIB)
    assert second.capacity_bytes == (81559 - 4100) * MIB and second.held_bytes == 4100 * MIB
    assert first.bandwidth_bytes_per_s == 3.35e12  # the catalog's H100 SXM5


def test_noheader_nounits_and_other_column_orders() -> None:
    bare = read_nvidia_smi("0, NVIDIA GeForce RTX 4090, 24564, 300\n")
    assert bare[0].capacity_bytes == (24564 - 300) * MIB and bare[0].device == "0"
    reordered = read_nvidia_smi(
        "name, memory.used [MiB], index, memory.total [MiB]\nNVIDIA A100-SXM4-80GB, 0 MiB, 3, 81920 MiB\n"
    )
    assert reordered[0].device == "3" and reordered[0].total_bytes == 81920 * MIB


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no GPUs listed"),
        ("index, name, memory.total [MiB]\n0, H100, 81559 MiB\n", "no memory.used column"),
        ("0, NVIDIA H100, [N/A], [N/A]\n", "memory.total reads '[N/A]', not a number"),
        ("0, NVIDIA H100, 100 MiB, 200 MiB\n", "200 MiB used of 100 MiB is not a reading"),
        ("x" * (2 << 20), "nvidia-smi --query-gpu=index,name,memory.total,memory.used --format=csv prints a few lines"),
    ],
)
def test_what_is_not_a_listing_is_said_so(text: str, message: str) -> None:
    with pytest.raises(NvidiaSmiError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        read_nvidia_smi(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_gpus_or_the_one_error(text: str) -> None:
    try:
        gpus = read_nvidia_smi(text)
    except NvidiaSmiError:
        return
    assert all(g.capacity_bytes is not None and g.capacity_bytes >= 0 for g in gpus)
