"""The GPU models, warm: SDXL pictures (``--images``) and Bark speech (``--speech``).

    .venv/bin/python benchmarks/gpu_models.py --images --speech [--tiny] [--pool]

Prints the card (or says there is no CUDA and runs the tiny models), a table per model,
and writes benchmarks/results/gpu_models.json. What each part measures is in its module:
benchmarks/gpu_images.py and benchmarks/gpu_speech.py. ``--pool`` measures the same models
through the farm's pools instead (one resident worker each, sharing one GPU: gpu_pool.py)
and writes gpu_models_pool.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: sibling modules

RESULTS = Path(__file__).parent / "results"


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
    parser.add_argument("--pool", action="store_true",
                        help="through the farm's worker pools (Ray actors), not in process")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON")
    args = parser.parse_args(argv)
    if not (args.images or args.speech):
        parser.error("choose --images, --speech or both")
    card = device_name()
    print(f"device: {card}")
    results: dict = {"device": card}
    if args.pool:
        import gpu_pool

        results["pool"] = gpu_pool.run(args.images, args.speech, args.tiny)
    elif args.images:
        import gpu_images

        results["images"] = gpu_images.run(tiny=args.tiny)
    if args.speech and not args.pool:
        import gpu_speech

        results["speech"] = gpu_speech.run(tiny=args.tiny)
    target = args.results / ("gpu_models_pool.json" if args.pool else "gpu_models.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=2))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
