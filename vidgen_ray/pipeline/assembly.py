"""The picture: chunks of the timeline rendered by FFmpeg, joined without re-encoding, muxed.

Every chunk is encoded with identical settings and starts on a keyframe, so the concat
demuxer can join them with ``-c copy``. Camera moves and dissolves are written in absolute
frame numbers: a chunk renders the same pixels as the same frames of a full render. A
talking shot (timeline.Shot) is its clip's frames by their offset from the shot's start, in
place of the scene's picture: a chunk starting inside one picks up where the last one stopped.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, SettingsError, ToolError
from vidgen_ray.images import focus
from vidgen_ray.pipeline import camera, encoders
from vidgen_ray.pipeline.filtergraph import path_value
from vidgen_ray.programs import decode_errors, ffmpeg, probe
from vidgen_ray.timeline import Clip, Segment, Shot, Timeline

ASSEMBLY_VERSION = "assembly-7"  # bump when the pixels a chunk renders change
AAC_BITRATE = "192k"


def _moving_still(input_label: str, clip: Clip, start: int, end: int, fps: int,
                  size: tuple[int, int], out_label: str, then: str = "",
                  video_from: int | None = None) -> str:
    """Frames [start, end) of a clip: its still repeated (or, for a scene shown by a video
    whose decoded frames begin at absolute frame ``video_from``, those frames), moved by the
    camera, stamped with absolute times (so time-based filters in ``then`` see the same
    clock in every chunk). The still comes as camera.zoom_source."""
    moves = camera.zoom_filters if clip.motion in camera.ZOOMS else camera.pan_filters
    move = moves(clip, fps, size, out_label.strip("[]"))
    # An image input ticks in 1/25 s; a 1/fps time base keeps every frame's time exact.
    repeat = f"loop=loop={end - start - 1}:size=1:start=0"
    if video_from is None and clip.motion == "static":  # framed once, repeated: same pixels
        first, moved = f"{move},{repeat}", ""
    else:  # the still repeated, or the video's own frames; moved on each frame
        first = repeat if video_from is None else (
            f"trim=start_frame={start - video_from}:end_frame={end - video_from}")
        moved = f",{move}"
    return f"{input_label}{first},settb=1/{fps},setpts=N+{start}{moved}{then}{out_label}"


def _video_frames(clip: Clip, first: int, last: int, fps: int) -> str:
    """Absolute frames [first, last) of a scene shown by a video clip: the clip at the
    render's frame rate (looped by its input's -stream_loop), from its own frame
    first - clip.start: every frame is a function of the absolute frame number alone."""
    return (f"fps={fps},trim=start_frame={first - clip.start}:end_frame={last - clip.start},"
            "setpts=N,")


def chunk_graph(timeline: Timeline, start: int, end: int, scene_inputs: dict[int, int],
                size: tuple[int, int], burn: str = "", videos: frozenset[int] = frozenset(),
                crops: dict[int, tuple[float, float]] | None = None,
                shot_inputs: dict[int, int] | None = None) -> str:
    """The filter graph for frames [start, end); input k is the still of scene_inputs' key,
    or, for a scene in ``videos``, its video clip (looped by the input's -stream_loop).
    ``burn``: filters that draw on the joined frames, timed by absolute frame (subtitles).
    ``crops``: where to crop a scene's still to the frame (images/focus.py), else the centre.
    ``shot_inputs``: input k is the talking clip of shot shot_inputs' key (timeline.shots)."""
    width, height = size
    segments = timeline.segments(start, end)
    shot_inputs = shot_inputs or {}
    missing = [i for i in shots_in(timeline, start, end) if i not in shot_inputs]
    if missing:
        raise ValueError(f"frames {start}-{end} show talking shots {missing}: give their "
                         "clips' inputs (shot_inputs)")
    uses, spans = _scene_uses(segments)
    clips = {clip.scene: clip for clip in timeline.clips}
    chains = []
    for scene, index in scene_inputs.items():
        if scene not in uses:  # seen here only through talking shots: its still is not drawn
            continue
        frames = (_video_frames(clips[scene], *spans[scene], timeline.fps)
                  if scene in videos else "")
        # The camera's source (more than the frame: camera.zoom_source), scaled up to
        # cover, the overflow cropped, once per still (or clip).
        fill_w, fill_h = camera.zoom_source(size)[0]
        chains.append(
            f"[{index}:v]{frames}scale={fill_w}:{fill_h}:force_original_aspect_ratio=increase"
            f":flags=lanczos:out_color_matrix=bt709:out_range=tv,"
            f"crop={fill_w}:{fill_h}{_crop_at((crops or {}).get(scene))},"
            f"setsar=1,format=yuv420p,{camera.zoom_source_filters(size)},split={uses[scene]}"
            + "".join(f"[s{scene}u{u}]" for u in range(uses[scene])))
    taken = dict.fromkeys(uses, 0)

    def still(scene: int) -> str:
        taken[scene] += 1
        return f"[s{scene}u{taken[scene] - 1}]"

    # A video's frames run on through a talking shot (from the chunk's first frame of the
    # scene), so the segments after the shot take the frames their absolute numbers name.
    starts = {scene: spans[scene][0] for scene in videos if scene in spans}
    for n, seg in enumerate(segments):
        chains.append(
            _segment(seg, n, clips, still, timeline.fps, size, starts) if seg.shot is None
            else _shot_frames(seg, n, timeline.shots[seg.shot], shot_inputs[seg.shot],
                              timeline.fps, size))
    # concat guesses segment boundaries from timestamps; renumbering keeps every frame.
    # Burned-in text sees absolute times, so a chunk draws what the whole render draws.
    drawn = f"setpts=N+{start},{burn},setpts=PTS-{start}," if burn else "setpts=N,"
    chains.append("".join(f"[g{n}]" for n in range(len(segments)))
                  + f"concat=n={len(segments)}:v=1:a=0,settb=1/{timeline.fps},{drawn}"
                  "format=yuv420p[v]")
    return ";".join(chains)


def _scene_uses(segments: list[Segment]) -> tuple[dict[int, int], dict[int, tuple[int, int]]]:
    """How many segments draw each scene's picture, and the first and last+1 frame of those
    (a talking shot shows its clip instead: a scene seen before and after one is used twice)."""
    uses: dict[int, int] = {}
    spans: dict[int, tuple[int, int]] = {}
    for seg in segments:
        if seg.shot is not None:
            continue
        for scene in (seg.a, seg.b):
            if scene is not None:
                uses[scene] = uses.get(scene, 0) + 1
                lo, hi = spans.get(scene, (seg.start, seg.end))
                spans[scene] = (min(lo, seg.start), max(hi, seg.end))
    return uses, spans


def _shot_frames(seg: Segment, n: int, shot: Shot, index: int, fps: int,
                 size: tuple[int, int]) -> str:
    """A segment showing a talking shot: the clip of input ``index`` from its own frame
    seg.start - shot.start (frame 0 where the line starts), scaled to cover the frame and
    cropped at the centre as a scene's video is; no camera move, no fade."""
    width, height = size
    # The clip's frame count is the line's length rounded up; cloning its last frames lets
    # a clip a frame or two short (a model's grid) still fill the shot.
    return (f"[{index}:v]tpad=stop=2:stop_mode=clone,"
            f"trim=start_frame={seg.start - shot.start}:end_frame={seg.end - shot.start},"
            f"setpts=N,scale={width}:{height}:force_original_aspect_ratio=increase"
            ":flags=lanczos:out_color_matrix=bt709:out_range=tv,"
            f"crop={width}:{height},setsar=1,format=yuv420p,"
            f"settb=1/{fps},setpts=N+{seg.start}[g{n}]")


def _crop_at(offset: tuple[float, float] | None) -> str:
    """crop's x and y for a window at ``offset`` (0..1 along each axis); nothing for the
    centre, which is crop's own default."""
    if offset is None or offset == (0.5, 0.5):
        return ""
    return f":x=(iw-ow)*{offset[0]:.4f}:y=(ih-oh)*{offset[1]:.4f}"


def _segment(seg: Segment, n: int, clips: dict[int, Clip], still, fps: int,
             size: tuple[int, int], videos: dict[int, int]) -> str:
    """One segment's frames; ``videos``: scenes shown by a clip -> the absolute frame their
    decoded frames start at in this chunk."""
    if seg.b is None:
        clip = clips[seg.a]
        return _moving_still(still(seg.a), clip, seg.start, seg.end, fps, size, f"[g{n}]",
                             then=_black_fades(clip, fps), video_from=videos.get(seg.a))
    # Every transition's progress at absolute frame f is Segment.alpha(f); fade and overlay
    # run in C, ~50x faster than a per-pixel blend expression (benchmarks/dissolve.py).
    a_then, b_then, mix = _transition(seg, fps, size[0])
    a = _moving_still(still(seg.a), clips[seg.a], seg.start, seg.end, fps, size, f"[g{n}a]",
                      a_then, videos.get(seg.a))
    b = _moving_still(still(seg.b), clips[seg.b], seg.start, seg.end, fps, size, f"[g{n}b]",
                      b_then, videos.get(seg.b))
    return f"{a};{b};[g{n}a][g{n}b]{mix}[g{n}]"


def _fade(kind: str, first: float, frames: float, fps: int, extra: str = "") -> str:
    """fade= whose weight at absolute frame f is (f - first + 1) / (frames + 1) (for "in")."""
    return f",fade=t={kind}:st={(first - 1) / fps:.6f}:d={(frames + 1) / fps:.6f}{extra}"


def _black_fades(clip: Clip, fps: int) -> str:
    """A clip's fade up from black after a fade_black, and down to black before one."""
    then = _fade("in", clip.start, clip.black_in, fps) if clip.black_in else ""
    if clip.black_out:
        then += _fade("out", clip.end - clip.black_out, clip.black_out, fps)
    return then


def _transition(seg: Segment, fps: int, width: int) -> tuple[str, str, str]:
    """Filters after the outgoing still, after the incoming one, and the filter joining them
    (b drawn over a), for an overlapping transition; all timed by absolute frame (pure)."""
    first, frames = seg.fade_start, seg.fade_frames
    overlay = "overlay=format=yuv420:eof_action=pass"
    # Progress as a function of the frame's time t, for expressions evaluated per frame.
    progress = f"((t*{fps}-{first}+1)/{frames + 1})"
    if seg.kind == "fade":  # a dims to black over the first half, b rises over the second
        half = (frames + 1) / 2
        return (_fade("out", first, half - 1, fps),
                ",format=yuva420p" + _fade("in", first + half, half - 1, fps, ":alpha=1"),
                overlay)
    if seg.kind in ("wipe_left", "wipe_right"):
        # b stays in place while its visible part grows from the right edge (wipe_left) or
        # the left: b beside a transparent half, cropped at the edge, drawn back where it
        # was. An even whole edge keeps crop and overlay (which round to chroma) in step.
        left = seg.kind == "wipe_left"
        edge = f"(2*floor({width}*({'1-' if left else ''}{progress})/2))"
        pad = f"pad=w={2 * width}:h=ih:x={0 if left else width}:y=0:color=black@0"
        place = edge if left else f"({edge}-{width})"
        return ("", f",format=yuva420p,{pad},crop=w={width}:h=ih:x='{edge}':y=0:exact=1",
                f"{overlay}:eval=frame:x='{place}':y=0")
    if seg.kind in ("slide_left", "slide_right"):  # b slides in over a from one side
        sign = "" if seg.kind == "slide_left" else "-"
        return "", "", f"{overlay}:eval=frame:x='{sign}W*(1-{progress})':y=0"
    return "", ",format=yuva420p" + _fade("in", first, frames, fps, ":alpha=1"), overlay


def burn_filter(ass_file: Path, settings: RenderSettings) -> str:
    """The ass= filter drawing a subtitle script, with the configured fonts folder handed to
    libass, so every node draws the text with the same font file. Both paths are escaped
    for the filter graph (filtergraph.py): any folder name reaches libass as it is."""
    return (f"ass=filename={path_value(ass_file, 'subtitle file')}"
            f":fontsdir={path_value(settings.subtitle_fonts_dir, 'subtitle_fonts_dir')}")


def chunk_args(timeline: Timeline, start: int, end: int, stills: dict[int, Path],
               settings: RenderSettings, out: Path, size: tuple[int, int] | None = None,
               ass_file: Path | None = None, videos: frozenset[int] = frozenset(),
               crops: dict[int, tuple[float, float]] | None = None,
               talking: dict[int, Path] | None = None) -> list[str]:
    """ffmpeg arguments that encode frames [start, end) to ``out`` at ``size`` (default:
    the settings'), with the subtitles of ``ass_file`` burned in if given; ``stills`` of the
    scenes in ``videos`` are video clips, looped endlessly; ``crops``: see chunk_graph;
    ``talking``: the talking clip of each shot shown (timeline.shots index) (pure)."""
    scenes, shots = sorted(stills), sorted(talking or {})
    loop = {scene: ["-stream_loop", "-1"] if scene in videos else [] for scene in scenes}
    inputs = [arg for scene in scenes for arg in (*loop[scene], "-i", str(stills[scene]))]
    inputs += [arg for shot in shots for arg in ("-i", str(talking[shot]))]
    burn = burn_filter(ass_file, settings) if ass_file else ""
    graph = chunk_graph(timeline, start, end, {s: k for k, s in enumerate(scenes)},
                        size or settings.size, burn, frozenset(videos) & set(scenes), crops,
                        {shot: len(scenes) + k for k, shot in enumerate(shots)})
    return ["-filter_complex_threads", str(settings.ffmpeg_threads), *inputs,
            "-filter_complex", graph, "-map", "[v]", *encoders.encoder_args(settings),
            "-frames:v", str(end - start), str(out)]


def scenes_in(timeline: Timeline, start: int, end: int) -> list[int]:
    """Scenes whose pictures frames [start, end) need (not those shown there only through
    talking shots: their clips stand in for the picture)."""
    return sorted({s for seg in timeline.segments(start, end) if seg.shot is None
                   for s in (seg.a, seg.b) if s is not None})


def shots_in(timeline: Timeline, start: int, end: int) -> list[int]:
    """The talking shots (timeline.shots indices) frames [start, end) show."""
    return sorted({seg.shot for seg in timeline.segments(start, end) if seg.shot is not None})


def render_chunk(timeline: Timeline, start: int, end: int, stills: dict[int, bytes],
                 settings: RenderSettings, size: tuple[int, int] | None = None,
                 ass: str | None = None, work: Path | None = None,
                 clips: dict[int, bytes] | None = None,
                 talking: dict[int, bytes] | None = None) -> bytes:
    """Encode frames [start, end) from the scenes' PNG stills (or, for scenes in ``clips``,
    their video clips, and for the talking shots shown, their clips in ``talking`` by shot
    index), at ``size`` (default: the settings'), burning in the ASS subtitle script ``ass``
    if given; return the MP4's bytes. ``work``: an empty scratch folder the caller removes (a
    job's: scratch.task_folder); without one, a temporary folder of its own."""
    clips, talking = clips or {}, talking or {}
    if work is None:
        with tempfile.TemporaryDirectory(prefix="vidgen-chunk-") as tmp:
            return render_chunk(timeline, start, end, stills, settings, size, ass, Path(tmp),
                                clips, talking)
    paths = {}
    for scene, png in stills.items():
        paths[scene] = work / f"scene{scene}.png"
        paths[scene].write_bytes(png)
    for scene, video in clips.items():  # ffmpeg reads the clip's container by its bytes
        paths[scene] = work / f"scene{scene}.clip"
        paths[scene].write_bytes(video)
    shots = {}
    for shot, video in talking.items():
        shots[shot] = work / f"shot{shot}.mp4"
        shots[shot].write_bytes(video)
    ass_file = None
    if ass is not None:
        ass_file = work / "subtitles.ass"
        ass_file.write_text(ass, encoding="utf-8")
    out = work / "chunk.mp4"
    encoders.require(settings.encoder)  # this node encodes with the job's encoder, or refuses
    ffmpeg(chunk_args(timeline, start, end, paths, settings, out, size, ass_file,
                      frozenset(clips), subject_crops(stills, size or settings.size, settings),
                      shots))
    return out.read_bytes()


def subject_crops(stills: dict[int, bytes], size: tuple[int, int],
                  settings: RenderSettings) -> dict[int, tuple[float, float]]:
    """With ``rendition_pictures=subject``, where to crop each still of another shape than
    the frame so its subject stays in (a function of the bytes: every chunk crops alike)."""
    if settings.rendition_pictures != "subject":
        return {}
    return {scene: focus.subject_offset(png, size) for scene, png in stills.items()}


def concat_list(chunks: list[tuple[Path, float]]) -> str:
    """A concat demuxer script; a duration per file keeps the frame rate exact (pure)."""
    lines = ["ffconcat version 1.0"]
    for path, seconds in chunks:
        if "\n" in str(path) or "\r" in str(path):  # one line per directive: refuse, not split
            raise SettingsError("the parts folder's path contains a line break: "
                                "choose a folder whose path is one line", field="out_dir")
        quoted = str(path).replace("'", "'\\''")
        lines += [f"file '{quoted}'", f"duration {seconds:.6f}"]
    return "\n".join(lines) + "\n"


def mux_args(concat_file: Path, soundtrack: Path, out: Path, title: str) -> list[str]:
    """Join the chunks without re-encoding, encode the soundtrack once, finish the MP4 (pure)."""
    return ["-f", "concat", "-safe", "0", "-i", str(concat_file), "-i", str(soundtrack),
            "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac",
            "-b:a", AAC_BITRATE, "-ar", "48000", "-ac", "2", "-movflags", "+faststart",
            "-metadata", f"title={title}", str(out)]


def check_video(video: Path, settings: RenderSettings, frames: int,
                size: tuple[int, int] | None = None) -> dict:
    """Probe the finished file; a render is done only if it is what the timeline promised
    (at ``size``, default the settings')."""
    try:
        info = probe(video)
        errors = decode_errors(video)
    except ToolError as exc:
        raise RenderError(f"{video} failed its check: {exc}", stage="check",
                          public=f"the finished video failed its check: {exc.public}") from exc
    streams = {s["codec_type"]: s for s in info["streams"]}
    v, a = streams.get("video", {}), streams.get("audio", {})
    width, height = size or settings.size
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
        found = "; ".join(problems)
        raise RenderError(f"{video} failed its check: {found}", stage="check",
                          public=f"the finished video failed its check: {found}")
    return {"width": width, "height": height, "fps": settings.fps,
            "frames": frames, "duration": round(duration, 3)}
