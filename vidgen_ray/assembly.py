"""The picture: chunks of the timeline rendered by FFmpeg, joined without re-encoding, muxed.

Every chunk is encoded with identical settings and starts on a keyframe, so the concat
demuxer can join them with ``-c copy``. Camera moves and dissolves are written in absolute
frame numbers: a chunk renders the same pixels as the same frames of a full render.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, ToolError
from vidgen_ray.ffmpeg import decode_errors, ffmpeg, probe
from vidgen_ray.timeline import Clip, Segment, Timeline

ASSEMBLY_VERSION = "assembly-4"  # bump when the pixels a chunk renders change
# Camera moves: zooms travel 12 % of the frame; pans hold an 8 % zoom and sweep 60 % of the
# slack. Neither crops more than 6 % of any edge, inside the cards' 7 % text margin.
ZOOM = 0.12
PAN_ZOOM = 0.08
PAN_SWEEP = 0.6
AAC_BITRATE = "192k"


def camera_window(clip: Clip, first_frame: int) -> dict[str, str]:
    """perspective= corner expressions for a Ken Burns move (pure).

    ``in`` counts frames from the start of this filter; ``first_frame`` is where that is in
    the clip, so the move depends only on the absolute frame number. Eased at both ends.
    """
    span = max(1, clip.frames - 1)
    p = f"(({first_frame}+in)/{span})"
    ease = f"({p}*{p}*(3-2*{p}))"
    zoom = {"zoom_in": f"(1+{ZOOM}*{ease})", "zoom_out": f"(1+{ZOOM}*(1-{ease}))"}.get(
        clip.motion, f"(1+{PAN_ZOOM})")
    # A share of the slack between window and frame, swept from one side to the other.
    sweep = f"({PAN_SWEEP}*(1-2*{ease}))"
    dx = {"pan_left": sweep, "pan_right": f"(-{sweep})"}.get(clip.motion, "0")
    dy = {"pan_up": sweep, "pan_down": f"(-{sweep})"}.get(clip.motion, "0")
    cx = f"(W/2+{dx}*(W-W/{zoom})/2)"
    cy = f"(H/2+{dy}*(H-H/{zoom})/2)"
    left, right = f"({cx}-W/{zoom}/2)", f"({cx}+W/{zoom}/2)"
    top, bottom = f"({cy}-H/{zoom}/2)", f"({cy}+H/{zoom}/2)"
    return {"x0": left, "y0": top, "x1": right, "y1": top,
            "x2": left, "y2": bottom, "x3": right, "y3": bottom}


def _moving_still(input_label: str, clip: Clip, start: int, end: int, fps: int,
                  out_label: str, then: str = "") -> str:
    """Frames [start, end) of a clip: its still repeated, moved by the camera, stamped with
    absolute times (so time-based filters in ``then`` see the same clock in every chunk)."""
    window = camera_window(clip, start - clip.start)
    corners = ":".join(f"{k}='{v}'" for k, v in window.items())
    # An image input ticks in 1/25 s; a 1/fps time base keeps every frame's time exact.
    return (f"{input_label}loop=loop={end - start - 1}:size=1:start=0,settb=1/{fps},"
            f"setpts=N+{start},perspective={corners}:interpolation=linear"
            f":eval=frame{then}{out_label}")


def chunk_graph(timeline: Timeline, start: int, end: int, scene_inputs: dict[int, int],
                size: tuple[int, int]) -> str:
    """The filter graph for frames [start, end); input k is the still of scene_inputs' key."""
    width, height = size
    segments = timeline.segments(start, end)
    uses: dict[int, int] = {}
    for seg in segments:
        for scene in (seg.a, seg.b):
            if scene is not None:
                uses[scene] = uses.get(scene, 0) + 1
    chains = []
    for scene, index in scene_inputs.items():
        # Fill the frame: scale up to cover, crop the overflow, once per still.
        chains.append(
            f"[{index}:v]scale={width}:{height}:force_original_aspect_ratio=increase"
            f":flags=lanczos:out_color_matrix=bt709:out_range=tv,crop={width}:{height},"
            f"setsar=1,format=yuv420p,split={uses[scene]}"
            + "".join(f"[s{scene}u{u}]" for u in range(uses[scene])))
    taken = dict.fromkeys(uses, 0)

    def still(scene: int) -> str:
        taken[scene] += 1
        return f"[s{scene}u{taken[scene] - 1}]"

    clips = {clip.scene: clip for clip in timeline.clips}
    for n, seg in enumerate(segments):
        chains.append(_segment(seg, n, clips, still, timeline.fps))
    # concat guesses segment boundaries from timestamps; renumbering keeps every frame.
    chains.append("".join(f"[g{n}]" for n in range(len(segments)))
                  + f"concat=n={len(segments)}:v=1:a=0,settb=1/{timeline.fps},setpts=N,"
                  "format=yuv420p[v]")
    return ";".join(chains)


def _segment(seg: Segment, n: int, clips: dict[int, Clip], still, fps: int) -> str:
    if seg.b is None:
        return _moving_still(still(seg.a), clips[seg.a], seg.start, seg.end, fps, f"[g{n}]")
    # The incoming still fades in over the outgoing one. With st and d chosen so, the weight
    # at absolute frame f is (f - fade_start + 1) / (fade_frames + 1), as Segment.alpha says;
    # fade+overlay run in C, ~50x faster than a per-pixel blend expression.
    st, d = (seg.fade_start - 1) / fps, (seg.fade_frames + 1) / fps
    a = _moving_still(still(seg.a), clips[seg.a], seg.start, seg.end, fps, f"[g{n}a]")
    b = _moving_still(still(seg.b), clips[seg.b], seg.start, seg.end, fps, f"[g{n}b]",
                      then=f",format=yuva420p,fade=t=in:st={st:.6f}:d={d:.6f}:alpha=1")
    return f"{a};{b};[g{n}a][g{n}b]overlay=format=yuv420:eof_action=pass[g{n}]"


def encoder_args(settings: RenderSettings) -> list[str]:
    """Identical for every chunk, so that chunks join with -c copy (pure)."""
    fps = settings.fps
    return ["-c:v", "libx264", "-preset", settings.x264_preset, "-crf", str(settings.crf),
            "-pix_fmt", "yuv420p", "-r", str(fps), "-g", str(2 * fps), "-sc_threshold", "0",
            "-x264-params", "open-gop=0", "-threads", str(settings.ffmpeg_threads),
            "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
            "-video_track_timescale", str(fps * 512), "-an"]


def chunk_args(timeline: Timeline, start: int, end: int, stills: dict[int, Path],
               settings: RenderSettings, out: Path) -> list[str]:
    """ffmpeg arguments that encode frames [start, end) to ``out`` (pure)."""
    scenes = sorted(stills)
    inputs = [arg for scene in scenes for arg in ("-i", str(stills[scene]))]
    graph = chunk_graph(timeline, start, end, {s: k for k, s in enumerate(scenes)},
                        settings.size)
    return ["-filter_complex_threads", str(settings.ffmpeg_threads), *inputs,
            "-filter_complex", graph, "-map", "[v]", *encoder_args(settings),
            "-frames:v", str(end - start), str(out)]


def scenes_in(timeline: Timeline, start: int, end: int) -> list[int]:
    """Scenes whose pictures frames [start, end) need."""
    return sorted({s for seg in timeline.segments(start, end) for s in (seg.a, seg.b)
                   if s is not None})


def render_chunk(timeline: Timeline, start: int, end: int, stills: dict[int, bytes],
                 settings: RenderSettings) -> bytes:
    """Encode frames [start, end) from the scenes' PNG stills; return the MP4's bytes."""
    with tempfile.TemporaryDirectory(prefix="vidgen-chunk-") as tmp:
        work = Path(tmp)
        paths = {}
        for scene, png in stills.items():
            paths[scene] = work / f"scene{scene}.png"
            paths[scene].write_bytes(png)
        out = work / "chunk.mp4"
        ffmpeg(chunk_args(timeline, start, end, paths, settings, out))
        return out.read_bytes()


def concat_list(chunks: list[tuple[Path, float]]) -> str:
    """A concat demuxer script; a duration per file keeps the frame rate exact (pure)."""
    lines = ["ffconcat version 1.0"]
    for path, seconds in chunks:
        quoted = str(path).replace("'", "'\\''")
        lines += [f"file '{quoted}'", f"duration {seconds:.6f}"]
    return "\n".join(lines) + "\n"


def mux_args(concat_file: Path, soundtrack: Path, out: Path, title: str) -> list[str]:
    """Join the chunks without re-encoding, encode the soundtrack once, finish the MP4 (pure)."""
    return ["-f", "concat", "-safe", "0", "-i", str(concat_file), "-i", str(soundtrack),
            "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac",
            "-b:a", AAC_BITRATE, "-ar", "48000", "-ac", "2", "-movflags", "+faststart",
            "-metadata", f"title={title}", str(out)]


def check_video(video: Path, settings: RenderSettings, frames: int) -> dict:
    """Probe the finished file; a render is done only if it is what the timeline promised."""
    try:
        info = probe(video)
        errors = decode_errors(video)
    except ToolError as exc:
        raise RenderError(f"{video} failed its check: {exc}", stage="check") from exc
    streams = {s["codec_type"]: s for s in info["streams"]}
    v, a = streams.get("video", {}), streams.get("audio", {})
    width, height = settings.size
    problems = []
    if (v.get("codec_name"), v.get("pix_fmt")) != ("h264", "yuv420p"):
        problems.append(f"video is {v.get('codec_name')}/{v.get('pix_fmt')}, not h264/yuv420p")
    if (v.get("width"), v.get("height")) != (width, height):
        problems.append(f"frame is {v.get('width')}x{v.get('height')}, not {width}x{height}")
    if v.get("r_frame_rate") != f"{settings.fps}/1":
        problems.append(f"frame rate is {v.get('r_frame_rate')}, not {settings.fps}")
    if (a.get("codec_name"), a.get("sample_rate"), a.get("channels")) != ("aac", "48000", 2):
        problems.append(f"audio is {a.get('codec_name')} {a.get('sample_rate')} Hz "
                        f"{a.get('channels')} ch, not AAC 48000 Hz stereo")
    duration = float(info["format"]["duration"])
    expected = frames / settings.fps
    if abs(duration - expected) > 1.5 / settings.fps:  # AAC priming may add a few ms
        problems.append(f"duration is {duration:.3f} s, the timeline says {expected:.3f}")
    if errors:
        problems.append(f"decoding reports: {errors.splitlines()[0]}")
    if problems:
        raise RenderError(f"{video} failed its check: " + "; ".join(problems), stage="check")
    return {"width": width, "height": height, "fps": settings.fps,
            "frames": frames, "duration": round(duration, 3)}
