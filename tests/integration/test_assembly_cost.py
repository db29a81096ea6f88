"""benchmarks/assembly_cost.py measures the video stage against x264 alone: both sides must
encode the same frames, or the ratio lies (it once did: the floor's raw file was written at
the stills' 25 fps and held 254 of 303 frames)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.programs import probe

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import assembly_cost  # noqa: E402


def frames_of(video: Path) -> int:
    return int(probe(video)["streams"][0]["nb_frames"])  # MP4 counts its samples


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
