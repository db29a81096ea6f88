"""The GPU models, warm: SDXL pictures (``--images``) and Bark speech (``--speech``).

    .venv/bin/python benchmarks/gpu_models.py --images --speech [--tiny]

Prints the card (or says there is no CUDA and runs the tiny models), a table per model,
and writes benchmarks/results/gpu_models.json. What each part measures is in its module:
benchmarks/gpu_images.py and benchmarks/gpu_speech.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: sibling modules

RESULTS = Path(__file__).parent / "results" / "gpu_models.json"


def device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return "no CUDA: CPU, tiny random-weight models (timings say nothing about a GPU)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", action="store_true", help="SDXL pictures")
    parser.add_argument("--speech", action="store_true", help="Bark speech")
    parser.add_argument("--tiny", action="store_true",
                        help="tiny random-weight models even where CUDA is present")
    args = parser.parse_args(argv)
    if not (args.images or args.speech):
        parser.error("choose --images, --speech or both")
    card = device_name()
    print(f"device: {card}")
    results: dict = {"device": card}
    if args.images:
        import gpu_images

        results["images"] = gpu_images.run(tiny=args.tiny)
    if args.speech:
        import gpu_speech

        results["speech"] = gpu_speech.run(tiny=args.tiny)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
