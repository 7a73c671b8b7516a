"""precision.py: which dtype policy a run gets by default on which hardware (issue 12)."""
import pytest

from keras_inpaint import precision


@pytest.mark.parametrize("flags, isa, native", [
    ({"avx2", "avx512f", "amx_bf16", "avx512_bf16"}, "avx512_core_amx (AMX-BF16)", True),
    # AMD Zen 4: AVX-512-BF16 but no AMX; bfloat16 measured 0.93x-1.38x there: not worth a default switch
    ({"avx2", "avx512f", "avx512_bf16"}, "avx512_core_bf16", False),
    ({"avx2", "avx512f"}, "avx512_core (no BF16)", False),
    ({"avx2"}, "avx2 (no BF16)", False),
    (set(), "unknown", False),
])
def test_bfloat16_default_follows_the_cpu_flags(monkeypatch, flags, isa, native):
    monkeypatch.setattr(precision, "_cpu_flags", lambda: set(flags))
    monkeypatch.setattr("tensorflow.config.list_physical_devices", lambda kind=None: [])   # no GPU / TPU
    assert precision.cpu_isa() == isa
    assert precision.native_bfloat16() is native
    assert precision.default_for("mixed_bfloat16") == ("mixed_bfloat16" if native else "float32")
    assert precision.default_for("float32") == "float32"          # a float32 model never switches
    assert precision.default_for("mixed_float16") == "mixed_float16"


def test_unknown_policy_is_a_clear_error():
    with pytest.raises(ValueError, match="bfloat32"):
        precision.default_for("bfloat32")
