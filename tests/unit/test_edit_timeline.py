"""The editable timeline: built from a storyboard and a timeline, written as OTIO, FCPXML and
EDL, read back with OpenTimelineIO and checked clip by clip against the timeline."""

import opentimelineio as otio
import pytest

from vidgen_ray.analysis import analyze_script
from vidgen_ray.pipeline.edit_timeline import FORMATS, build_timeline, cut_frames, write
from vidgen_ray.timeline import AUDIO_RATE, Pacing, place_effects, plan_timeline

SCRIPT = """# Three scenes

## Harbour

Waves broke on the harbour wall. [[SFX: thunder]]

MARA: The boats are late tonight.

## The storm

Rain hammered the windows.

ELIAS: We should light the lamp.

## Morning

The sun rose over a calm sea.
"""


@pytest.fixture(scope="module")
def made():
    board = analyze_script(SCRIPT, "three.md")
    board.scenes[1].transition = "fade_black"
    board.scenes[1].camera = "pan_left"
    seconds = [[1.0 + 0.3 * n for n, _ in enumerate(s.lines)] for s in board.scenes]
    timeline = plan_timeline(board, seconds, Pacing())
    files = {"stills": [f"parts/image/{n}.png" for n in range(len(timeline.clips))],
             "speech": [f"parts/speech/{n}.wav" for n in range(len(timeline.cues))],
             "stems": {"music": "stems/music.wav", "effects": "stems/effects.wav"}}
    return board, timeline, files


def _clips(track):
    return [item for item in track if isinstance(item, otio.schema.Clip)]


def _placed(clip, rate):
    """(start, duration) of a clip on its track, in units of ``rate``."""
    where = clip.range_in_parent()
    return (round(where.start_time.rescaled_to(rate).value),
            round(where.duration.rescaled_to(rate).value))


def test_the_pictures_track_cuts_at_transition_midpoints_with_the_stills(made):
    board, timeline, files = made
    edit = build_timeline(board, timeline, **files)
    assert [t.name for t in edit.tracks] == ["Pictures", "Speech", "Music", "Ambience", "Effects"]
    pictures = edit.tracks[0]
    assert pictures.kind == otio.schema.TrackKind.Video
    assert pictures.duration().value == timeline.total_frames
    cuts = cut_frames(timeline)
    for n, (clip, item) in enumerate(zip(timeline.clips, _clips(pictures), strict=True)):
        assert item.media_reference.target_url == f"parts/image/{n}.png"
        assert _placed(item, timeline.fps) == (cuts[n], cuts[n + 1] - cuts[n])
        # The still's own time: the clip is trimmed to what shows between the cuts.
        assert item.source_range.start_time.value == cuts[n] - clip.start
        meta = item.metadata["vidgen"]
        assert (meta["scene"], meta["motion"], meta["enter"]) == (n, clip.motion, clip.enter)
    assert _clips(pictures)[1].metadata["vidgen"]["motion"] == "pan_left"
    # A dissolve into scene 2, none into scene 3 (a fade through black, as metadata).
    transitions = [t for t in pictures if isinstance(t, otio.schema.Transition)]
    assert [t.name for t in transitions] == ["dissolve"]
    fade = timeline.clips[1].fade_in
    assert transitions[0].in_offset.value + transitions[0].out_offset.value == fade
    assert _clips(pictures)[2].metadata["vidgen"]["black_in"] == timeline.clips[2].black_in > 0


def test_speech_clips_sound_where_the_timeline_puts_each_line(made):
    board, timeline, files = made
    speech = build_timeline(board, timeline, **files).tracks[1]
    clips = _clips(speech)
    assert len(clips) == len(timeline.cues) == 5
    for n, (cue, item) in enumerate(zip(timeline.cues, clips, strict=True)):
        assert item.media_reference.target_url == f"parts/speech/{n}.wav"
        start, length = _placed(item, AUDIO_RATE)
        assert start == round(cue.start * AUDIO_RATE)
        assert length == round(cue.end * AUDIO_RATE) - start
        assert item.metadata["vidgen"]["speaker"] == cue.speaker
        assert item.metadata["vidgen"]["text"] == cue.text


def test_music_ambience_and_effects_are_cut_from_the_stems(made):
    board, timeline, files = made
    edit = build_timeline(board, timeline, **files)
    music, ambience, effects = edit.tracks[2:]
    cuts = [c / timeline.fps for c in cut_frames(timeline)]
    for n, item in enumerate(_clips(music)):
        assert item.media_reference.target_url == "stems/music.wav"
        # The stem runs the whole video: a scene's clip is that stretch of it.
        assert item.source_range.start_time.value == round(cuts[n] * AUDIO_RATE)
        assert _placed(item, AUDIO_RATE)[0] == round(cuts[n] * AUDIO_RATE)
        assert item.metadata["vidgen"]["mood"] == board.scenes[n].mood
    # No ambience stem was written: the clips say which file and how to get it.
    assert all(item.media_reference.is_missing_reference for item in _clips(ambience))
    assert "--stems" in _clips(ambience)[0].media_reference.metadata["vidgen"]["hint"]
    [thunder] = place_effects(board, timeline)
    [item] = _clips(effects)
    assert (item.name, item.media_reference.target_url) == ("thunder", "stems/effects.wav")
    assert _placed(item, AUDIO_RATE)[0] == round(thunder.start * AUDIO_RATE)


def test_every_track_lasts_the_video(made):
    board, timeline, files = made
    for track in build_timeline(board, timeline, **files).tracks:
        assert abs(track.duration().to_seconds() - timeline.duration) < 1 / timeline.fps


def test_written_files_read_back_with_opentimelineio(made, tmp_path):
    board, timeline, files = made
    written = write(tmp_path, board, timeline, list(FORMATS), **files)
    assert [p.name for p in written] == ["timeline.otio", "timeline.fcpxml", "timeline.edl"]
    native = otio.adapters.read_from_file(str(tmp_path / "timeline.otio"))
    assert native.is_equivalent_to(build_timeline(board, timeline, **files))
    # FCPXML: every track, in frames.
    fcp = otio.adapters.read_from_file(str(tmp_path / "timeline.fcpxml"))
    urls = {c.media_reference.target_url for c in fcp.find_clips()
            if not c.media_reference.is_missing_reference}
    assert {*files["stills"], *files["speech"], "stems/music.wav"} <= urls
    video = next(t for t in fcp.tracks if t.kind == otio.schema.TrackKind.Video)
    cuts = cut_frames(timeline)
    assert [_placed(c, timeline.fps)[0] for c in _clips(video)] == cuts[:-1]
    speech_fcp = [c for c in fcp.find_clips() if "parts/speech/" in
                  getattr(c.media_reference, "target_url", "")]
    assert [round(c.range_in_parent().start_time.to_frames()) for c in speech_fcp] == [
        round(cue.start * timeline.fps) for cue in timeline.cues]
    # EDL: the picture cut, one event per still and the dissolve.
    edl = otio.adapters.read_from_file(str(tmp_path / "timeline.edl"), rate=timeline.fps)
    assert [c.name for c in edl.find_clips()] == [s.title for s in board.scenes]
    assert edl.tracks[0].duration().value == timeline.total_frames
    assert "parts/image/0.png" in (tmp_path / "timeline.edl").read_text()


def test_one_still_and_one_speech_file_each_or_a_clear_error(made):
    board, timeline, files = made
    with pytest.raises(ValueError, match="one still per scene"):
        build_timeline(board, timeline, stills=files["stills"][:1], speech=files["speech"])


def test_talking_shots_are_a_video_track_over_the_pictures_where_they_cut_in(made, tmp_path):
    board, _, files = made
    seconds = [[1.0 + 0.3 * n for n, _ in enumerate(s.lines)] for s in board.scenes]
    talking = frozenset((s, n) for s, scene in enumerate(board.scenes)
                        for n, line in enumerate(scene.lines) if line.speaker != "NARRATOR")
    timeline = plan_timeline(board, seconds, Pacing(), talking=talking)
    assert len(timeline.shots) == 2
    shots = [f"parts/talking/{i}.mp4" for i in range(len(timeline.shots))]
    edit = build_timeline(board, timeline, **files, shots=shots)
    assert [t.name for t in edit.tracks][:3] == ["Pictures", "Talking shots", "Speech"]
    track = edit.tracks[1]
    placed = [(_placed(c, timeline.fps), c.media_reference.target_url) for c in _clips(track)]
    assert placed == [((s.start, s.frames), path)
                      for s, path in zip(timeline.shots, shots, strict=True)]
    assert track.duration().value == timeline.total_frames
    # FCPXML keeps both video tracks; the EDL (one video track) the pictures alone.
    write(tmp_path, board, timeline, list(FORMATS), **files, shots=shots)
    fcp = otio.adapters.read_from_file(str(tmp_path / "timeline.fcpxml"))
    urls = {c.media_reference.target_url for c in fcp.find_clips()
            if not c.media_reference.is_missing_reference}
    assert set(shots) <= urls
    assert "parts/talking/" not in (tmp_path / "timeline.edl").read_text()
    with pytest.raises(ValueError, match="one clip per talking shot"):
        build_timeline(board, timeline, **files)
