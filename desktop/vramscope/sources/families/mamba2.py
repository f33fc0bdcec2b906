"""The Mamba-2 mixer in the mamba_* keys Falcon-H1 and Granite 4 share (not a family of its own)."""

from vramscope.core.architecture import Mamba
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError

# transformers' defaults shared by FalconH1Config and GraniteMoeHybridConfig
DEFAULTS = {
    "tie_word_embeddings": False,
    "mamba_n_heads": 128,
    "mamba_d_head": "auto",
    "mamba_n_groups": 1,
    "mamba_d_state": 256,
    "mamba_d_conv": 4,
    "mamba_expand": 2,
    "mamba_conv_bias": True,
    "mamba_proj_bias": False,
}


def mamba2_mixer(k: ConfigKeys, hidden: int) -> Mamba:
    """Falcon-H1 may set its inner width (mamba_d_ssm), leave out the gated norm and give the output
    projection its own bias."""
    inner = k.int("mamba_d_ssm", default=k.int("mamba_expand") * hidden)
    heads = k.int("mamba_n_heads")
    head = k.get("mamba_d_head")
    head_dim = inner // heads if head in (None, "auto") else k.int("mamba_d_head")
    if head_dim * heads != inner:
        raise ModelFileError(f"config.json: {heads} Mamba heads of {head_dim} do not make the inner width {inner}")
    proj_bias = k.flag("mamba_proj_bias")
    return Mamba(
        d_state=k.int("mamba_d_state"),
        d_conv=k.int("mamba_d_conv"),
        heads=heads,
        head_dim=head_dim,
        groups=k.int("mamba_n_groups"),
        conv_bias=k.flag("mamba_conv_bias", default=True),
        proj_bias=proj_bias,
        out_bias=k.flag("projectors_bias", default=proj_bias),
        gated_norm=k.flag("mamba_rms_norm", default=True),
    )
