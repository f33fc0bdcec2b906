"""The tensors a model file really holds: exact stored bytes, and each tensor's role for re-pricing."""

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from vramscope.core.architecture import Architecture, Group, Tensor
from vramscope.core.precision import WeightFormat, context_for, local_shape, tensor_bytes


class StoredTensor(NamedTuple):
    """One tensor of a file. `tensor` carries the role and the logical shape (a packed int4 matrix has its
    unpacked shape); `stored_bytes` is what the file holds; scales and zero points are not parameters."""

    tensor: Tensor
    dtype: str
    stored_bytes: int
    is_parameter: bool

    @property
    def parameters(self) -> int:
        return self.tensor.numel if self.is_parameter else 0


@dataclass(frozen=True, eq=False)  # identity equality: cheap to hash in the per-format caches
class TensorInventory:
    tensors: tuple[StoredTensor, ...]
    files: int
    file_kind: str  # "safetensors" | "gguf"
    file_type: str | None = None  # GGUF file type (Q4_K_M …) or the checkpoint's quantization

    def parameter_count(self) -> int:
        return sum(t.parameters for t in self.tensors)

    def stored_bytes(self) -> int:
        return sum(t.stored_bytes for t in self.tensors)

    def dtype_counts(self) -> dict[str, int]:
        return dict(Counter(t.dtype for t in self.tensors))

    def describe(self) -> str:
        """'291 tensors from 4 safetensors files'."""
        return f"{len(self.tensors):,} tensors from {self.files} {self.file_kind} file{'s' if self.files != 1 else ''}"


class InventoryLayout(NamedTuple):
    """One tensor-parallel rank's weight bytes by layer, as `precision.WeightLayout`."""

    per_layer: tuple[int, ...]
    expert_per_layer: tuple[int, ...]
    first_stage: int
    last_stage: int


@lru_cache(maxsize=64)
def inventory_layout(
    inventory: TensorInventory, arch: Architecture, fmt: WeightFormat | None, tp: int
) -> InventoryLayout:
    """Bytes of the file's own tensors (fmt None: as stored, exact) or re-priced tensor by tensor into `fmt`
    (scales of the old format dropped, every parameter tensor priced by the new format's rules)."""
    ctx = context_for(arch)
    per_layer = [0] * arch.num_layers
    experts = [0] * arch.num_layers
    first = last = 0
    for stored in inventory.tensors:
        t = stored.tensor
        local = t._replace(shape=local_shape(t, arch, tp)) if tp > 1 else t
        if fmt is None:
            size = stored.stored_bytes * local.numel // max(1, t.numel)
        elif stored.is_parameter:
            size = tensor_bytes(fmt, local, ctx)
        else:
            continue
        if 0 <= t.layer < arch.num_layers:
            per_layer[t.layer] += size
            if t.group is Group.EXPERT:
                experts[t.layer] += size
        elif t.role in ("output_norm", "output") or t.layer >= arch.num_layers:  # head, MTP layers
            last += size
        else:
            first += size
    return InventoryLayout(tuple(per_layer), tuple(experts), first, last)
