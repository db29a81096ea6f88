"""Tiny random-weight models, built offline from configs in well under a second, in the
folder layouts that the real loaders read (``from_pretrained(..., local_files_only=True)``).

    python -m vidgen_ray.testing.tiny_models DIR

writes DIR/sdxl (a StableDiffusionXLPipeline folder), DIR/ip_adapter (an IP-Adapter in the
original layout with its image encoder), DIR/fast_lora (a LoRA of its UNet in diffusers'
layout, for --image-fast-path) and DIR/bark (a BarkModel + BarkProcessor folder, with voice
presets). Tests, and anyone smoke-testing a cluster, render with them through
the same code path that loads real weights. The pictures and voices are noise.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def build_all(root: Path) -> dict[str, Path]:
    """Every tiny model under ``root``; returns their folders by name."""
    from vidgen_ray.testing.tiny_bark import build_bark
    from vidgen_ray.testing.tiny_sdxl import build_ip_adapter, build_lora, build_sdxl

    root = Path(root)
    return {"sdxl": build_sdxl(root / "sdxl"),
            "ip_adapter": build_ip_adapter(root / "ip_adapter"),
            "fast_lora": build_lora(root / "fast_lora"),
            "bark": build_bark(root / "bark")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="folder to write the models into")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    folders = build_all(args.dir)
    for name, folder in folders.items():
        print(f"{name}: {folder}")
    print(f"built in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
