"""A real tiny render writes timeline.otio, .fcpxml and .edl beside the video; read back with
OpenTimelineIO, every clip names a file the render wrote and sits where the render put it."""

import json
import wave

import opentimelineio as otio
import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.connect import render
from vidgen_ray.pipeline.edit_timeline import cut_frames
from vidgen_ray.timeline import AUDIO_RATE, Pacing, plan_timeline

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

SCRIPT = """# Two scenes

## Harbour

Waves broke on the wall. [[SFX: thunder]]

MARA: The boats are late.

## Morning

The sun rose.
"""


def _wav_seconds(path):
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


@pytest.fixture(scope="module")
def rendered(ray_local, tmp_path_factory):
    script = tmp_path_factory.mktemp("script") / "two.md"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path_factory.mktemp("render")
    settings = RenderSettings(resolution="720p", timeline_formats=["otio", "fcpxml", "edl"],
                              stems="wav", chunk_seconds=5.0, subtitle_speakers=True)
    return render(script, out, settings)


def test_the_timelines_reference_the_render_files_where_it_placed_them(rendered):
    out = rendered.out_dir
    manifest = json.loads((out / "manifest.json").read_text())
    for name in ("timeline.otio", "timeline.fcpxml", "timeline.edl"):
        assert manifest["artifacts"][name]["bytes"] == (out / name).stat().st_size > 0
    edit = otio.adapters.read_from_file(str(out / "timeline.otio"))
    pictures, speech, music, ambience, effects = edit.tracks
    # Every reference is a real file, by a path relative to the output folder.
    for clip in edit.find_clips():
        path = out / clip.media_reference.target_url
        assert not clip.media_reference.target_url.startswith("/") and path.is_file(), path
    # The timeline the render used, rebuilt from its storyboard and speech files.
    board = rendered.storyboard
    speech_seconds = [_wav_seconds(out / c.media_reference.target_url)
                      for c in speech.find_clips()]
    assert pictures.duration().value == manifest["video"]["frames"]
    assert pictures.duration().to_seconds() == pytest.approx(rendered.duration)
    stills = pictures.find_clips()
    assert len(stills) == len(board.scenes) == 2
    assert {c.media_reference.target_url.split("/")[-2] for c in stills} == {"image"}
    lines = [line for scene in board.scenes for line in scene.lines]
    assert [c.metadata["vidgen"]["text"] for c in speech.find_clips()] == [
        line.text for line in lines]
    # Speech files are the parts the render voiced: their lengths place the lines again.
    at = 0
    per_scene = []
    for scene in board.scenes:
        per_scene.append(speech_seconds[at:at + len(scene.lines)])
        at += len(scene.lines)
    timeline = plan_timeline(board, per_scene, Pacing(crossfade=0.5), seed=0)
    assert [round(c.range_in_parent().start_time.value) for c in speech.find_clips()] == [
        round(cue.start * AUDIO_RATE) for cue in timeline.cues]
    cuts = cut_frames(timeline)
    assert [round(c.range_in_parent().start_time.value) for c in stills] == cuts[:-1]
    for track, bus in ((music, "music"), (ambience, "ambience"), (effects, "effects")):
        assert {c.media_reference.target_url for c in track.find_clips()} == {
            f"stems/{bus}.wav"}
    assert [c.name for c in effects.find_clips()] == ["thunder"]


def test_fcpxml_and_edl_read_back(rendered):
    out = rendered.out_dir
    fcp = otio.adapters.read_from_file(str(out / "timeline.fcpxml"))
    assert len(list(fcp.find_clips())) == len(list(
        otio.adapters.read_from_file(str(out / "timeline.otio")).find_clips()))
    edl = otio.adapters.read_from_file(str(out / "timeline.edl"), rate=30)
    assert [c.name for c in edl.find_clips()] == [s.title for s in rendered.storyboard.scenes]


def test_the_subtitles_meet_the_rules_and_name_the_speakers(rendered):
    out = rendered.out_dir
    report = json.loads((out / "manifest.json").read_text())["subtitles"]
    assert report["issues"] == [] and report["max_cps"] == 17.0
    srt = (out / "subtitles.srt").read_text()
    assert srt.count(" --> ") == report["cues"] and "MARA: The boats are late." in srt
    assert "Waves broke on the wall." in srt and "NARRATOR" not in srt
