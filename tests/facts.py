"""Published facts the tests check against (reference/models.md: parameter counts reproduced from the
Hub's safetensors totals; KV bytes per token in bf16; MoE active parameters). In the project's own form."""

from typing import NamedTuple


class ModelFact(NamedTuple):
    preset: str
    parameters: int
    kv_bytes_per_token: int
    active: int | None = None  # the text model's, router buffers included
    vision: int = 0  # the vision encoder, counted beside the text model (transformers' vision_parameters)


MODEL_FACTS = [
    ModelFact("llama-2-7b", 6_738_415_616, 524_288),
    ModelFact("llama-2-13b", 13_015_864_320, 819_200),
    ModelFact("llama-3.1-8b", 8_030_261_248, 131_072),
    ModelFact("llama-3.1-70b", 70_553_706_496, 327_680),
    ModelFact("llama-3.1-405b", 405_853_388_800, 516_096),
    ModelFact("llama-3.2-1b", 1_235_814_400, 32_768),
    ModelFact("llama-3.2-3b", 3_212_749_824, 114_688),
    ModelFact("llama-3.3-70b", 70_553_706_496, 327_680),
    ModelFact("mistral-7b-v0.1", 7_241_732_096, 131_072),
    ModelFact("mistral-7b-v0.3", 7_248_023_552, 131_072),
    ModelFact("mistral-nemo-12b", 12_247_782_400, 163_840),
    ModelFact("mixtral-8x7b", 46_702_792_704, 131_072, 12_879_925_248),
    ModelFact("qwen2.5-0.5b", 494_032_768, 12_288),
    ModelFact("qwen2.5-1.5b", 1_543_714_304, 28_672),
    ModelFact("qwen2.5-3b", 3_085_938_688, 36_864),
    ModelFact("qwen2.5-7b", 7_615_616_512, 57_344),
    ModelFact("qwen2.5-32b", 32_763_876_352, 262_144),
    ModelFact("qwen2.5-72b", 72_706_203_648, 327_680),
    ModelFact("qwen3-0.6b", 596_049_920, 114_688),
    ModelFact("qwen3-8b", 8_190_735_360, 147_456),
    ModelFact("qwen3-32b", 32_762_123_264, 262_144),
    ModelFact("qwen3-30b-a3b", 30_532_122_624, 98_304, 3_353_032_704),
    ModelFact("gemma-2-2b", 2_614_341_888, 106_496),
    ModelFact("gemma-2-9b", 9_241_705_984, 344_064),
    ModelFact("gemma-3-1b", 999_885_952, 26_624),
    ModelFact("gemma-3-4b", 4_300_079_472, 139_264),
    ModelFact("gemma-3-27b", 27_432_406_640, 507_904),
    ModelFact("phi-3-mini-4k", 3_821_079_552, 393_216),
    ModelFact("phi-4", 14_659_507_200, 204_800),
    ModelFact("phi-4-mini", 3_836_021_760, 131_072),
    # DeepSeek-V3's published active figure counts the 58 x 256 router score-correction buffers
    ModelFact("deepseek-v3", 671_026_404_352, 70_272, 37_552_297_472),
    ModelFact("gpt-oss-20b", 20_914_757_184, 49_152, 4_187_440_704),
    ModelFact("falcon-7b", 6_921_720_704, 8_192),
    ModelFact("olmo-2-7b", 7_298_617_344, 524_288),
    ModelFact("jamba-v0.1", 51_570_323_328, 16_384, 12_110_311_296),
    ModelFact("gpt2", 124_439_808, 36_864),
    # counted from their config.json and confirmed against published totals (Hub safetensors tables,
    # llama.cpp / Ollama parameter counts)
    ModelFact("llama-2-70b", 68_976_648_192, 327_680),
    ModelFact("mixtral-8x22b", 140_620_634_112, 229_376, 39_152_031_744),
    ModelFact("qwen2.5-14b", 14_770_033_664, 196_608),
    ModelFact("qwen3-235b-a22b", 235_093_634_560, 192_512, 22_190_763_520),
    ModelFact("gemma-2-27b", 27_227_128_320, 376_832),
    ModelFact("phi-3-medium-4k", 13_960_238_080, 204_800),
    ModelFact("deepseek-v2-lite", 15_706_484_224, 31_104, 2_661_150_208),
    ModelFact("gpt-oss-120b", 116_829_156_672, 73_728, 5_711_982_912),
    ModelFact("falcon-40b", 41_303_293_952, 122_880),
    ModelFact("olmo-2-13b", 13_716_198_400, 819_200),
    ModelFact("smollm2-135m", 134_515_008, 23_040),
    # the 2025-26 families: parameters as transformers 5.24 counts them on the meta device, KV bytes per token
    # as measured on a shrunk copy (tests/fixtures/configs/TRUTHS.json); active counts include router buffers
    ModelFact("qwen3.5-27b", 26_895_998_464, 65_536, vision=460_730_096),
    ModelFact("qwen3.5-35b-a3b", 34_660_610_688, 20_480, 3_454_988_928, 446_571_248),
    ModelFact("qwen3.5-397b-a17b", 396_346_350_336, 30_720, 17_349_040_896, 456_010_480),
    ModelFact("qwen3-next-80b-a3b", 79_674_391_296, 24_576, 3_874_929_408),
    ModelFact("qwen3-vl-8b", 8_190_735_360, 147_456, vision=576_388_336),
    ModelFact("llama-4-scout-17b-16e", 107_769_861_120, 196_608, 17_172_894_720),
    ModelFact("llama-4-maverick-17b-128e", 400_711_848_960, 196_608, 17_184_691_200),
    ModelFact("deepseek-v3.2", 671_877_929_216, 85_888, 38_403_822_336),
    ModelFact("kimi-k2", 1_026_408_209_408, 70_272, 32_861_500_928),
    ModelFact("glm-4.7", 352_796_472_320, 376_832, 33_630_909_440),
    ModelFact("glm-5", 743_911_199_232, 109_824, 41_784_728_832),
    ModelFact("minimax-m2.5", 228_689_748_992, 253_952, 11_030_537_216),
    ModelFact("nemotron-h-56b", 56_324_350_464, 40_960),
    ModelFact("nemotron-3-nano-30b-a3b", 31_577_937_344, 6_144, 3_580_076_352),
    # Gemma 4: 25 sliding layers (8 KV heads of 256) and 5 global ones (2 KV heads of 512): 25 x 8,192 + 5 x 4,096
    ModelFact("gemma-4-26b-a4b", 25_233_141_760, 225_280, 3_822_530_560, 572_792_112),
    ModelFact("mimo-v2-flash", 308_778_768_832, 222_720, 15_445_936_320),
    # Gemma-4-31B: 50 sliding layers (16 KV heads of 256) and 10 global ones (4 KV heads of 512, key = value)
    ModelFact("gemma-4-31b", 30_697_345_280, 901_120, vision=575_741_232),
    ModelFact("mistral-small-3.1-24b", 23_572_403_200, 163_840, vision=438_958_080),  # Pixtral: 24,011,361,280 in all
    # Falcon-H1: every layer both attends (2 KV heads of 64) and keeps a Mamba-2 state
    ModelFact("falcon-h1-0.5b", 521_411_104, 18_432),
]
