"""The one error every model reader raises, carrying a message a user can act on, and the sanity bound
every reader applies to what it built."""

from typing import TypeVar

from vramscope.core.architecture import Architecture

MAX_PARAMETERS = 10**14  # 100 trillion: about fifty times the largest model published (1-2 T)

_Built = TypeVar("_Built", bound=Architecture)


class ModelFileError(Exception):
    """A model file, folder or preset that cannot be read; str(error) is the user's message."""


def plausible(arch: _Built, where: str) -> _Built:
    """The architecture, unless its numbers add up to no model there could be."""
    count = arch.parameter_count()
    if count <= 0:
        raise ModelFileError(f"{where} describes a model of {count:,} parameters")
    if count > MAX_PARAMETERS:
        raise ModelFileError(f"{where} describes {count:.3g} parameters, beyond any real model: a size is wrong")
    return arch
