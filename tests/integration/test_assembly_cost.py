"""benchmarks/assembly_cost.py measures the video stage against x264 alone: both sides must
encode the same frames, or the ratio lies (it once did: the floor's raw file was written at
the stills' 25 fps and held 254 of 303 frames)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from vidgen_ray.config import RenderSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import assembly_cost  # noqa: E402


def frames_of(video: Path) -> int:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                          "-show_entries", "stream=nb_read_frames", "-of", "json", str(video)],
                         check=True, capture_output=True, text=True).stdout
    return int(json.loads(out)["streams"][0]["nb_read_frames"])


def test_the_floor_encodes_every_frame_the_stage_encodes(tmp_path):
    settings = RenderSettings(resolution="480p")
    timeline, stills = assembly_cost.build(tmp_path, 3.0, 2, settings)
    ours = assembly_cost.chunk_commands(timeline, stills, settings, tmp_path)
    floor = assembly_cost.floor_commands(timeline, stills, settings, tmp_path)
    assert len(ours) == len(floor) == 1
    for command in (*ours, *floor):
        subprocess.run(command, check=True)
    assert frames_of(Path(ours[0][-1])) == timeline.total_frames
    assert frames_of(Path(floor[0][-1])) == timeline.total_frames
