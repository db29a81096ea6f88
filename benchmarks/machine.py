"""The machine a benchmark ran on, named the same way in every table and JSON file."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"
