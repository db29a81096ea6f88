"""`python -m vidgen_ray.testing.tiny_models DIR`: every tiny model, loadable by the real
loaders (the loaders themselves are exercised in test_sdxl.py and test_bark.py)."""

from __future__ import annotations

import pytest

pytest.importorskip("diffusers")


def test_the_command_builds_every_tiny_model_in_the_loaders_layout(tmp_path, capsys):
    from diffusers import StableDiffusionXLPipeline
    from transformers import BarkModel

    from vidgen_ray.testing.tiny_models import main

    main([str(tmp_path)])
    printed = capsys.readouterr().out
    for name in ("sdxl", "ip_adapter", "fast_lora", "bark"):
        assert f"{name}: {tmp_path / name}" in printed
    assert StableDiffusionXLPipeline.from_pretrained(tmp_path / "sdxl",
                                                     local_files_only=True).unet is not None
    assert BarkModel.from_pretrained(tmp_path / "bark", local_files_only=True).config
    assert list((tmp_path / "ip_adapter").rglob("*.safetensors")) or \
        list((tmp_path / "ip_adapter").rglob("*.bin"))
    assert (tmp_path / "fast_lora" / "pytorch_lora_weights.safetensors").is_file()
