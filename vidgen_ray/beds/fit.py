"""A model's audio to a bed: resampled and downmixed by FFmpeg (programs.py), looped with
crossfades to exactly the asked samples, written as a WAV.

Beds are mono at AUDIO_RATE because the mix makes every bed mono there (audio/mix.py
``_MONO``; a music file of the user's own is downmixed too), so a generated bed enters the
mix as the procedural ones and the user's files do. The arguments and the loop are pure; the
resampling runs ffmpeg once, raw float samples in and out through pipes.
"""

from __future__ import annotations

import io
import math
import wave

import numpy as np

from vidgen_ray.programs import run_tool
from vidgen_ray.timeline import AUDIO_RATE

# Long enough to hide the seam between a piece's end and its start (different material:
# an equal-power fade keeps the level), short enough that little of a piece is spent on it.
CROSSFADE_SECONDS = 2.0


def resample_args(rate: int, channels: int) -> list[str]:
    """ffmpeg arguments reading float32 interleaved ``channels`` at ``rate`` on stdin and
    writing float32 mono at AUDIO_RATE on stdout: the channels averaged (a fixed pan, not
    the resampler's downmix matrix, which may change between versions), then resampled."""
    filters = []
    if channels > 1:
        gain = f"{1 / channels:.6g}"
        filters.append("pan=mono|c0=" + "+".join(f"{gain}*c{k}" for k in range(channels)))
    if rate != AUDIO_RATE:
        filters.append(f"aresample={AUDIO_RATE}")
    return ["-hide_banner", "-nostdin", "-v", "error",
            "-f", "f32le", "-ar", str(rate), "-ac", str(channels), "-i", "-",
            *(["-af", ",".join(filters)] if filters else []),
            "-f", "f32le", "-ac", "1", "-ar", str(AUDIO_RATE), "-"]


def to_mono_48k(audio: np.ndarray, rate: int) -> np.ndarray:
    """``audio`` (channels, samples) at ``rate`` as float32 mono at AUDIO_RATE."""
    channels = audio.shape[0]
    if channels == 1 and rate == AUDIO_RATE:
        return audio[0].astype(np.float32)
    interleaved = np.ascontiguousarray(audio.T, dtype="<f4").tobytes()
    out = run_tool("ffmpeg", resample_args(rate, channels), input=interleaved, timeout=600)
    return np.frombuffer(out, dtype="<f4").copy()


def loop_to_length(piece: np.ndarray, total: int,
                   crossfade: int = round(CROSSFADE_SECONDS * AUDIO_RATE)) -> np.ndarray:
    """``piece`` (mono) cut or looped to exactly ``total`` samples. Each repeat starts
    ``crossfade`` samples (at most a quarter of the piece) before the previous one ends,
    faded in as that one fades out with equal power (sine and cosine)."""
    if piece.ndim != 1 or len(piece) < 1 or total < 0:
        raise ValueError(f"cannot loop a piece of shape {piece.shape} to {total} samples")
    if total <= len(piece):
        return piece[:total].astype(np.float32)
    fade = min(crossfade, len(piece) // 4)
    ramp = (np.arange(fade) + 0.5) / max(fade, 1) * (math.pi / 2)
    fade_in, fade_out = np.sin(ramp), np.cos(ramp)
    out = np.empty(total, dtype=np.float64)
    out[:len(piece)] = piece
    end = len(piece)
    while end < total:  # out[end - fade:end] is the previous repeat's last ``fade`` samples
        out[end - fade:end] = out[end - fade:end] * fade_out + piece[:fade] * fade_in
        count = min(len(piece) - fade, total - end)
        out[end:end + count] = piece[fade:fade + count]
        end += count
    return out.astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int = AUDIO_RATE) -> bytes:
    """Mono float samples as a 16-bit PCM WAV, clipped to full scale (a random or loud
    model may overshoot). 16 bits: a bed is heard well below the speech, far above its
    noise floor; every reader (the wave module, FFmpeg) takes it."""
    pcm = np.clip(np.rint(samples * 32767.0), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def fit_bed(audio: np.ndarray, rate: int, samples: int) -> bytes:
    """The model's ``audio`` (channels, samples) at ``rate`` as a WAV bed of exactly
    ``samples`` mono samples at AUDIO_RATE."""
    return wav_bytes(loop_to_length(to_mono_48k(audio, rate), samples))
