"""The tensors a model file really holds: exact stored bytes, and each tensor's role for re-pricing."""

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from vramscope.core.architecture import Architecture, Group, Tensor
from vramscope.core.precision import LayoutBuilder, WeightFormat, WeightLayout, context_for, local_shape, tensor_bytes


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


@lru_cache(maxsize=64)
def inventory_layout(inventory: TensorInventory, arch: Architecture, fmt: WeightFormat | None, tp: int) -> WeightLayout:
    """Bytes of the file's own tensors (fmt None: as stored, exact) or re-priced tensor by tensor into `fmt`
    (scales of the old format dropped, every parameter tensor priced by the new format's rules)."""
    ctx = context_for(arch)
    builder = LayoutBuilder(arch.num_layers)
    whole_vision = arch.vision is not None and arch.vision.replicated
    for stored in inventory.tensors:
        t = stored.tensor
        split = tp > 1 and not (whole_vision and t.group is Group.VISION)
        local = t._replace(shape=local_shape(t, arch, tp)) if split else t
        if fmt is None:
            size = stored.stored_bytes * local.numel // max(1, t.numel)
        elif stored.is_parameter:
            size = tensor_bytes(fmt, local, ctx)
        else:
            continue
        builder.add(t, size)
    return builder.layout()
