"""The soundtrack rendered for real by FFmpeg: loudness presets measured with ebur128 on the
final MP4, ducking, effects at their cue times, stems in every format, every recipe."""

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vidgen_ray import audio
from vidgen_ray.audio import ambience, effects, music
from vidgen_ray.config import load_settings
from vidgen_ray.pipeline import assembly
from vidgen_ray.speech.base import Speech, SpeechRequest
from vidgen_ray.speech.espeak import EspeakBackend
from vidgen_ray.storyboard import EFFECTS, Line, Scene, SoundCue, Storyboard
from vidgen_ray.timeline import AUDIO_RATE, Pacing, place_effects, plan_timeline

pytestmark = pytest.mark.ffmpeg

# Scene 2 says nothing: three seconds of bed alone, to compare with the bed under speech.
BOARD = Storyboard(scenes=[
    Scene(lines=[Line(text="The storm came in from the sea."),
                 Line(text="We closed the shutters and waited.")],
          mood="tense", ambience="rain", sfx=[SoundCue(name="knock", line=1)]),
    Scene(mood="tense", ambience="rain", sfx=[SoundCue(name="bell", offset=1.0)]),
    Scene(lines=[Line(text="By morning it was calm again.")], mood="calm", ambience="ocean"),
])
# (loudness preset, stem format): each preset once, each format once.
CASES = [("web", "mp3"), ("podcast", "wav"), ("broadcast", "flac"), ("-16", "aac")]


def decode(path: Path) -> np.ndarray:
    """Samples as float32, shape (n, channels), at 48 kHz."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ar",
                          str(AUDIO_RATE), "-"], capture_output=True, check=True).stdout
    channels = probe_audio(path)["channels"]
    return np.frombuffer(raw, dtype="<f4").reshape(-1, channels)


def probe_audio(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                          "-select_streams", "a", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)["streams"][0]


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) as ffmpeg's ebur128 measures them."""
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a",
                          "-af", "ebur128=peak=true", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    summary = err[err.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.inf]+) dBFS", summary).group(1))
    return integrated, peak


@pytest.fixture(scope="module")
def speech_track(tmp_path_factory):
    backend = EspeakBackend()
    lines = [line for scene in BOARD.scenes for line in scene.lines]
    speeches = backend.synthesize([SpeechRequest(text=line.text, voice="en", language="en")
                                   for line in lines])
    seconds, at = [], 0
    for scene in BOARD.scenes:
        seconds.append([s.duration for s in speeches[at:at + len(scene.lines)]])
        at += len(scene.lines)
    timeline = plan_timeline(BOARD, seconds, Pacing(fps=30))
    rate = speeches[0].sample_rate
    track = audio.place_speech([c.start for c in timeline.cues], [s.samples for s in speeches],
                               rate, timeline.duration)
    wav = tmp_path_factory.mktemp("speech") / "speech.wav"
    wav.write_bytes(Speech(track, rate).to_wav())
    return wav, timeline


@pytest.fixture(scope="module")
def renders(speech_track, tmp_path_factory):
    """One soundtrack per case, muxed into an MP4 the way a render finishes one."""
    return {case: _render(*case, speech_track, tmp_path_factory) for case in CASES}


@pytest.fixture(params=CASES, ids=[f"{p}-{f}" for p, f in CASES])
def rendered(request, renders):
    return renders[request.param]


@pytest.fixture
def lossless(renders):
    return renders[("podcast", "wav")]


def _render(preset, fmt, speech_track, tmp_path_factory):
    settings = load_settings(loudness=preset, stems=fmt)
    wav, timeline = speech_track
    work = tmp_path_factory.mktemp(f"sound-{fmt}")
    track = audio.render_soundtrack(wav, BOARD, timeline, seed=3, loudness=settings.loudness,
                                    work=work, out=work / "soundtrack.wav", stems=fmt)
    video = work / "picture.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    f"color=c=black:s=64x64:r=30:d={timeline.duration}", "-frames:v",
                    str(timeline.total_frames), "-c:v", "libx264", str(video)], check=True)
    concat = work / "list.ffconcat"
    concat.write_text(assembly.concat_list([(video, timeline.duration)]), encoding="utf-8")
    mp4 = work / "video.mp4"
    subprocess.run(["ffmpeg", "-v", "error", *assembly.mux_args(concat, work / "soundtrack.wav",
                                                                mp4, "t")], check=True)
    return settings, fmt, track, mp4, timeline


def test_final_mp4_is_on_target_with_true_peak_under_the_ceiling(rendered):
    settings, _, _, mp4, _ = rendered
    integrated, peak = ebur128(mp4)
    assert abs(integrated - settings.loudness) <= 1.0
    assert peak <= audio.TRUE_PEAK


def test_stems_decode_with_the_mix_length_and_stereo(rendered):
    _, fmt, track, _, timeline = rendered
    ext = audio.STEM_FORMATS[fmt][0]
    assert sorted(track.exports) == sorted(
        [f"mix.{ext}", *(f"stems/{bus}.{ext}" for bus in audio.BUSES)])
    for path in track.exports.values():
        stream = probe_audio(path)
        # A 16-bit stereo WAV has the plain header, which names no layout: two channels
        # are stereo by definition there.
        layout = stream.get("channel_layout", "stereo" if fmt == "wav" else None)
        assert (stream["channels"], layout, stream["sample_rate"]) == (2, "stereo", "48000")
        if fmt == "wav":
            assert stream["codec_name"] == "pcm_s16le"  # opens everywhere
        extra = len(decode(path)) - timeline.audio_samples
        # ffmpeg 5.1 trims AAC's priming but decodes the last frame's padding: < 1024 samples.
        assert 0 <= extra < 1024 if fmt == "aac" else extra == 0


def test_the_bed_is_lower_under_speech_than_in_the_gap(lossless):
    _, _, track, _, timeline = lossless
    bed = sum(decode(track.exports[f"stems/{bus}.wav"])[:, 0] for bus in ("music", "ambience"))
    # The silent scene, away from its dissolves, against the middle of the lines over the
    # same mood and ambience before it.
    gap_clip = timeline.clips[1]
    gap = bed[round((gap_clip.start / 30 + 0.8) * AUDIO_RATE):
              round((gap_clip.end / 30 - 0.8) * AUDIO_RATE)]
    spoken = np.concatenate([bed[round((c.start + 0.3) * AUDIO_RATE):
                                 round((c.end - 0.2) * AUDIO_RATE)]
                              for c in timeline.cues if c.scene == 0])  # the same bed
    ducking = 20 * np.log10(np.sqrt(np.mean(gap**2)) / np.sqrt(np.mean(spoken**2)))
    assert ducking > 6.0, f"the bed is only {ducking:.1f} dB lower under speech"


def test_stems_add_up_to_the_mix(lossless):
    _, _, track, _, _ = lossless
    assert track.normalised["normalization_type"] == "linear", (track.measured, track.normalised)
    mix = decode(track.exports["mix.wav"])
    total = sum(decode(track.exports[f"stems/{bus}.wav"]) for bus in audio.BUSES)
    # Only the peak limiter before the loudness pass acts on the mix alone.
    assert np.sqrt(np.mean((total - mix) ** 2)) < 0.03 * np.sqrt(np.mean(mix**2))


def test_effects_start_at_their_cue_times(lossless):
    _, _, track, _, timeline = lossless
    fx = decode(track.exports["stems/effects.wav"])[:, 0]
    cues = place_effects(BOARD, timeline)
    assert [cue.name for cue in cues] == ["knock", "bell"]
    for cue in cues:
        at = round(cue.start * AUDIO_RATE)
        before, after = fx[at - 2400:at - 48], fx[at:at + 2400]  # 50 ms either side
        assert np.abs(before).max() < 1e-4 < np.abs(after).max() / 100


def _render_source(source: str, seconds: float, tmp_path: Path, name: str) -> np.ndarray:
    out = tmp_path / f"{name}.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", source, "-t", str(seconds),
                    "-ar", str(AUDIO_RATE), "-c:a", "pcm_f32le", str(out)], check=True)
    return decode(out)[:, 0]


def _assert_sound(samples: np.ndarray, seconds: float) -> None:
    assert len(samples) == pytest.approx(seconds * AUDIO_RATE, abs=AUDIO_RATE * 0.01)
    assert np.isfinite(samples).all()
    assert 1e-3 < np.abs(samples).max() < 1.0  # audible, not clipped


@pytest.mark.parametrize("name", EFFECTS)
def test_every_effect_renders(name, tmp_path):
    samples = _render_source(effects.effect_source(name, seed=1), 10, tmp_path, name)
    assert 0.8 * AUDIO_RATE < len(samples) < 7 * AUDIO_RATE  # a one-shot: it ends by itself
    _assert_sound(samples, len(samples) / AUDIO_RATE)


@pytest.mark.parametrize("name", [n for n in ambience.AMBIENCE if n != "none"])
def test_every_ambience_renders(name, tmp_path):
    samples = _render_source(ambience.ambience_source(name, 2.0, seed=1), 2.0, tmp_path, name)
    _assert_sound(samples, 2.0)


@pytest.mark.parametrize("mood", sorted(music.MOODS))
def test_every_mood_renders_and_loops_without_a_click(mood, tmp_path):
    source, length = music.music_source(mood, seed=1)
    looped = f"{source},aloop=loop=-1:size={length},atrim=end_sample={2 * length}"
    samples = _render_source(looped, 2 * length / music.MUSIC_RATE, tmp_path, mood)
    _assert_sound(samples, 2 * length / music.MUSIC_RATE)
    jumps = np.abs(np.diff(samples))
    assert jumps.max() < 2 * np.percentile(jumps, 99.9)  # no chord change or loop clicks


def test_two_seeds_sound_different_and_one_seed_repeats(tmp_path):
    def take(seed: int, name: str) -> np.ndarray:
        source, _ = music.music_source("calm", seed)
        return _render_source(source, 4.0, tmp_path, name)

    first, again, other = take(1, "a"), take(1, "b"), take(2, "c")
    assert np.array_equal(first, again)
    assert not np.array_equal(first[: len(other)], other[: len(first)])
    rain = [_render_source(ambience.ambience_source("rain", 1.0, seed), 1.0, tmp_path, f"r{i}")
            for i, seed in enumerate((1, 1, 2))]
    assert np.array_equal(rain[0], rain[1]) and not np.array_equal(rain[0], rain[2])
