"""VRAM Scope: will this model fit on my GPUs?"""

__version__ = "0.1.0"
