"""Byte units: integers inside, GiB (2^30) or GB (10^9) only in text. One place for unit rules."""

import re
from enum import StrEnum

KIB = 1024
MIB = 1024**2
GIB = 1024**3
GB = 10**9


class Unit(StrEnum):
    GIB = "GiB"
    GB = "GB"


UNIT_BYTES = {Unit.GIB: GIB, Unit.GB: GB}

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kKmMgGtT]i?[bB]?|[bB])?\s*$")
_FACTORS = {
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "kib": KIB,
    "ki": KIB,
    "m": 10**6,
    "mb": 10**6,
    "mib": MIB,
    "mi": MIB,
    "g": GIB,  # a bare "24G" is what drivers and engines mean: GiB
    "gb": GB,
    "gib": GIB,
    "gi": GIB,
    "t": 1024**4,
    "tb": 10**12,
    "tib": 1024**4,
    "ti": 1024**4,
}


def to_unit(n_bytes: int, unit: Unit = Unit.GIB) -> float:
    return n_bytes / UNIT_BYTES[unit]


def format_bytes(n_bytes: int, unit: Unit = Unit.GIB, digits: int = 2) -> str:
    """'14.96 GiB'; small values fall back to MiB/MB so that nothing reads as 0.00."""
    big = UNIT_BYTES[unit]
    if abs(n_bytes) >= big // 100 or n_bytes == 0:
        return f"{n_bytes / big:,.{digits}f} {unit.value}"
    small, name = (MIB, "MiB") if unit is Unit.GIB else (10**6, "MB")
    return f"{n_bytes / small:,.{digits}f} {name}"


def parse_size(text: str, default_unit: Unit = Unit.GIB) -> int:
    """'24GiB' -> 25769803776; a bare number is taken in `default_unit`."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a memory size: {text!r} (try '24GiB' or '80GB')")
    number, suffix = float(match.group(1)), match.group(2)
    factor = UNIT_BYTES[default_unit] if suffix is None else _FACTORS[suffix.lower()]
    return round(number * factor)
