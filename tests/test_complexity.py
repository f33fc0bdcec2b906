"""The model readers stay small enough to read: a family's dialect lives in its module, so no function of
the readers branches more than radon's grade C allows (cyclomatic complexity 20)."""

from pathlib import Path

import pytest
from radon.complexity import cc_visit

SOURCES = Path(__file__).resolve().parents[1] / "desktop" / "vramscope" / "sources"
MAX_COMPLEXITY = 20


@pytest.mark.parametrize("path", sorted(SOURCES.rglob("*.py")), ids=lambda p: str(p.relative_to(SOURCES)))
def test_no_reader_function_is_above_grade_c(path: Path) -> None:
    blocks = cc_visit(path.read_text(encoding="utf-8"))
    functions = [f for block in blocks for f in (getattr(block, "methods", None) or [block])]
    too_complex = [f"{f.name} ({f.complexity})" for f in functions if f.complexity > MAX_COMPLEXITY]
    assert too_complex == []
