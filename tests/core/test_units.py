import pytest

from vramscope.core.units import GB, GIB, Unit, format_bytes, parse_size


def test_format_in_gib_and_gb() -> None:
    assert format_bytes(16_060_522_496) == "14.96 GiB"
    assert format_bytes(16_060_522_496, Unit.GB) == "16.06 GB"
    assert format_bytes(471_859_200) == "0.44 GiB"
    assert format_bytes(1_048_576) == "1.00 MiB"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("24GiB", 24 * GIB), ("80GB", 80 * GB), ("24", 24 * GIB), ("1.5 GiB", 3 * GIB // 2), ("512MiB", 512 * 2**20)],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


def test_parse_size_rejects_words() -> None:
    with pytest.raises(ValueError, match="not a memory size"):
        parse_size("lots")
