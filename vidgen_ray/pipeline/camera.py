"""Camera moves as FFmpeg filters; every frame a function of its absolute frame number (pure).

Zooms are drawn by ``scale`` (swscale, SIMD), about ten times cheaper a frame than
``perspective`` (benchmarks/assembly_cost.py). swscale maps whole pixels, a source window of
s pixels onto d, so a zoom ratio is hit by a pair (s, d): the still is scaled once to
SIGMA times the frame, and each frame picks, among d = W, W+4, ... (ZOOM_SEARCH sizes), the
s whose s/d is nearest the ratio. Both crops are centred, so the centre is exact; the
ratio's error moves the frame's edge by under 0.1 px (tests), where a whole-pixel zoom
(``zoompan``) jumps by one. Steps of 4 keep every crop on even rows and columns (4:2:0).
A pan (and the static frame) keeps its sizes and slides its crops (pan_filters).
"""

from __future__ import annotations

import functools
import math

from vidgen_ray.pipeline.filtergraph import option_value
from vidgen_ray.timeline import Clip

# Zooms travel 12 % of the frame; pans hold an 8 % zoom and sweep 60 % of the slack.
# Neither crops more than 6 % of any edge, inside the cards' 7 % text margin.
ZOOM = 0.12
PAN_ZOOM = 0.08
PAN_SWEEP = 0.6
ZOOMS = ("zoom_in", "zoom_out")
# A zoom's source is the still at 1.15 times the frame: ratios s/d then stay in
# [1.15/1.12, 1.15], clear of 1, near which no pair of sizes under W+4*ZOOM_SEARCH comes
# closer than a pixel at the edge (1.15: 0.09 px at most, measured over the whole zoom).
SIGMA = 1.15
ZOOM_SEARCH = 32
# A pan's window slides by whole pixels in two places, the source crop (a) and the frame's
# crop in the scaled picture (c): a + c * s/d hits any sub-pixel place to within ~0.05 px
# with PAN_SEARCH values of c.
PAN_SEARCH = 32


def zoom_source(size: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int], float]:
    """A zoom's still: scaled to cover ``core`` (SIGMA times the frame, each side a multiple
    of 4 more: centred crops then fall on even columns and rows), bordered by ``margin``
    pixels of its edges smeared (room for the larger pairs of the search: never on screen
    but through the interpolation at the frame's edge, as perspective clamps); and the
    source pixels per frame pixel at zoom 1, the same on both sides (no stretch)."""
    width, height = size
    core = (width + 4 * round((SIGMA - 1) * width / 4),
            height + 4 * round((SIGMA - 1) * height / 4))
    ratio = max(core[0] / width, core[1] / height)
    margin = tuple(2 * math.ceil(((length + 4 * ZOOM_SEARCH) * ratio - side) / 4)
                   for length, side in zip(size, core, strict=True))
    return core, margin, ratio


def zoom_source_filters(size: tuple[int, int]) -> str:
    """The border of a zoom's still (zoom_source), after it is scaled to the core."""
    (core_w, core_h), (margin_w, margin_h), _ = zoom_source(size)
    return (f"pad={core_w + 2 * margin_w}:{core_h + 2 * margin_h}:{margin_w}:{margin_h},"
            f"fillborders=left={margin_w}:right={margin_w}:top={margin_h}:bottom={margin_h}"
            ":mode=smear")


def zoom_at(clip: Clip, frame: int) -> float:
    """How far a zoom has gone in at absolute ``frame``: 1 (the frame) to 1+ZOOM (pure)."""
    p = (frame - clip.start) / max(1, clip.frames - 1)
    ease = p * p * (3 - 2 * p)
    return 1 + ZOOM * (ease if clip.motion == "zoom_in" else 1 - ease)


@functools.cache
def zoom_pair(length: int, source: int, ratio: float) -> tuple[int, int]:
    """(s, d): the centred source window s scaled to d whose s/d is nearest ``ratio``
    (source pixels per frame pixel), d among length, length+4, ...; what zoom_filters'
    FFmpeg expression computes, step for step (pure)."""
    best = (math.inf, source, length)
    for j in range(ZOOM_SEARCH):
        d = length + 4 * j
        s = source - 4 * math.floor((source - d * ratio) / 4 + 0.5)
        error = abs(s - d * ratio) / d
        if s <= source and error < best[0]:
            best = (error, s, d)
    return best[1], best[2]


def _frame_expr(clip: Clip, fps: int, t: str) -> str:
    """The zoom ratio's FFmpeg expression at the frame whose time in seconds is ``t``."""
    p = f"((floor({t}*{fps}+0.5)-{clip.start})/{max(1, clip.frames - 1)})"
    ease = f"({p}*{p}*(3-2*{p}))"
    return f"(1+{ZOOM}*{ease if clip.motion == 'zoom_in' else f'(1-{ease})'})"


def _pair_expr(length: int, source: int, ratio: str, result: str) -> str:
    """zoom_pair as an FFmpeg expression; ``result``: "s", "d" or "c" (the frame's offset
    in d, (d - length) / 2). Registers: 0 ratio, 1 j, 2 best error, 3 s, 4 d, 5-7 scratch."""
    found = {"s": "ld(3)", "d": "ld(4)", "c": f"(ld(4)-{length})/2"}[result]
    return (f"st(0,{ratio});st(1,0);st(2,1e9);st(3,{source});st(4,{length});"
            f"while(lt(ld(1),{ZOOM_SEARCH}),st(5,{length}+4*ld(1));"
            f"st(6,{source}-4*floor(({source}-ld(5)*ld(0))/4+0.5));"
            f"st(7,abs(ld(6)-ld(5)*ld(0))/ld(5));"
            f"if(lte(ld(6),{source})*lt(ld(7),ld(2)),st(2,ld(7));st(3,ld(6));st(4,ld(5)));"
            f"st(1,ld(1)+1));{found}")


def zoom_filters(clip: Clip, fps: int, size: tuple[int, int], name: str) -> str:
    """Filters that zoom a still already made a zoom_source (zoom_source_filters), each frame
    stamped with its absolute time: crop the centred window s (crop's size changes only by
    command: sendcmd sends it, computed from the frame's time), scale it to d, crop the
    centred frame. A frame's sizes depend on its time alone, as chunks need."""
    width, height = size
    (core_w, core_h), (margin_w, margin_h), sigma = zoom_source(size)
    source_w, source_h = core_w + 2 * margin_w, core_h + 2 * margin_h
    ratio = {t: f"({sigma!r}/{_frame_expr(clip, fps, t)})" for t in ("T", "t")}
    window = (f"0 [expr] crop@zw{name} w '{_pair_expr(width, source_w, ratio['T'], 's')}',"
              f" [expr] crop@zw{name} h '{_pair_expr(height, source_h, ratio['T'], 's')}';")
    scaled = (f"w={option_value(_pair_expr(width, source_w, ratio['t'], 'd'))}"
              f":h={option_value(_pair_expr(height, source_h, ratio['t'], 'd'))}")
    # Named (zc, zw, zs, zf + name): sendcmd finds the crop; benchmarks take the move out.
    return (f"sendcmd@zc{name}=c={option_value(window)},"
            f"crop@zw{name}=w={source_w}:h={source_h},"
            f"scale@zs{name}={scaled}:eval=frame:flags=bilinear,"
            f"crop@zf{name}=w={width}:h={height}"
            f":x={option_value(_pair_expr(width, source_w, ratio['t'], 'c'))}"
            f":y={option_value(_pair_expr(height, source_h, ratio['t'], 'c'))},"
            "setsar=1")  # scale set a pixel shape making up for s/d's rounding: not wanted


def pan_left(clip: Clip, frame: int, size: tuple[int, int]) -> tuple[float, float]:
    """Where a pan's (or the static frame's) window starts at absolute ``frame``, in frame
    pixels: (left, top); the window is the frame over 1+PAN_ZOOM (pure)."""
    p = (frame - clip.start) / max(1, clip.frames - 1)
    sweep = PAN_SWEEP * (1 - 2 * p * p * (3 - 2 * p))  # from one side of the slack to the other
    dx = {"pan_left": sweep, "pan_right": -sweep}.get(clip.motion, 0.0)
    dy = {"pan_up": sweep, "pan_down": -sweep}.get(clip.motion, 0.0)
    return tuple((1 + d) * (length - length / (1 + PAN_ZOOM)) / 2
                 for d, length in ((dx, size[0]), (dy, size[1])))


@functools.cache
def pan_pair(length: int, source: int, ratio: float) -> tuple[int, int]:
    """(s, d) for a pan's moving side: d leaves room for PAN_SEARCH even offsets c, and of
    a few such pairs, the one whose offsets a + c*s/d come nearest any place (pure)."""
    grid = [i / 64 for i in range(128)]  # places modulo 2 (a is even)
    best = (math.inf, 0, 0)
    for extra in range(16):
        d = length + 2 * (PAN_SEARCH - 1) + 2 * extra
        s = 2 * math.floor(d * ratio / 2 + 0.5)
        reach = sorted((2 * k * s / d) % 2 for k in range(PAN_SEARCH))
        gap = max(min(abs(g - r) for r in [*reach, reach[0] + 2]) for g in grid)
        error = gap + abs(s / d - ratio) * length / ratio  # offset + scale, frame pixels
        if s <= source and error < best[0]:
            best = (error, s, d)
    return best[1], best[2]


@functools.cache
def still_pair(length: int, source: int, ratio: float) -> tuple[int, int]:
    """(s, d) for a side that holds still: centred crops, the smallest d whose ratio is
    within 0.02 px at the edge (a larger picture to scale costs more), else zoom_pair's."""
    for j in range(ZOOM_SEARCH):
        d = length + 4 * j
        s = source - 4 * math.floor((source - d * ratio) / 4 + 0.5)
        if s <= source and abs(s / d - ratio) * length / ratio < 0.02:
            return s, d
    return zoom_pair(length, source, ratio)


def pan_offsets(place: float, s: int, d: int, source: int) -> tuple[int, int]:
    """(a, c): even crops in the source and in the scaled picture with a + c*s/d nearest
    ``place`` (source pixels); what pan_filters' FFmpeg expression computes (pure)."""
    best = (math.inf, 0, 0)
    for k in range(PAN_SEARCH):
        c = 2 * k
        a = 2 * math.floor((place - c * s / d) / 2 + 0.5)
        error = abs(a + c * s / d - place)
        if error < best[0] and 0 <= a <= source - s:
            best = (error, a, c)
    return best[1], best[2]


def _offset_expr(place: str, s: int, d: int, source: int, result: str) -> str:
    """pan_offsets as an FFmpeg expression; ``result``: "a" or "c". Registers: 0 place,
    1 k, 2 best error, 3 a, 4 c, 5-7 scratch."""
    return (f"st(0,{place});st(1,0);st(2,1e9);st(3,0);st(4,0);"
            f"while(lt(ld(1),{PAN_SEARCH}),st(5,2*ld(1));"
            f"st(6,2*floor((ld(0)-ld(5)*{s}/{d})/2+0.5));"
            f"st(7,abs(ld(6)+ld(5)*{s}/{d}-ld(0)));"
            f"if(lt(ld(7),ld(2))*gte(ld(6),0)*lte(ld(6),{source - s}),"
            f"st(2,ld(7));st(3,ld(6));st(4,ld(5)));st(1,ld(1)+1));"
            f"{'ld(3)' if result == 'a' else 'ld(4)'}")


def pan_filters(clip: Clip, fps: int, size: tuple[int, int], name: str) -> str:
    """Filters that pan over a still made a zoom_source (or hold it, static), each frame
    stamped with its absolute time: crop s at a, scale to d (fixed sizes), crop the frame
    at c; on the side that does not move, both crops centred (as a zoom's)."""
    (core_w, core_h), (margin_w, margin_h), sigma = zoom_source(size)
    sources = (core_w + 2 * margin_w, core_h + 2 * margin_h)
    ratio = sigma / (1 + PAN_ZOOM)
    vertical = clip.motion in ("pan_up", "pan_down")
    p = f"((floor(t*{fps}+0.5)-{clip.start})/{max(1, clip.frames - 1)})"
    sweep = f"({PAN_SWEEP}*(1-2*{p}*{p}*(3-2*{p})))"
    sign = "-" if clip.motion in ("pan_right", "pan_down") else "+"
    crops, scaled, frame = [], [], []
    for axis, (length, source) in enumerate(zip(size, sources, strict=True)):
        if axis == vertical and clip.motion != "static":
            s, d = pan_pair(length, source, ratio)
            slack = length - length / (1 + PAN_ZOOM)
            place = (f"({(source - sigma * length) / 2!r}+{sigma!r}*(1{sign}{sweep})"
                     f"*{slack!r}/2)")
            crops.append((s, option_value(_offset_expr(place, s, d, source, "a"))))
            frame.append(option_value(_offset_expr(place, s, d, source, "c")))
        else:
            s, d = still_pair(length, source, ratio)
            crops.append((s, str((source - s) // 2)))
            frame.append(str((d - length) // 2))
        scaled.append(d)
    return (f"crop@zw{name}=w={crops[0][0]}:h={crops[1][0]}:x={crops[0][1]}:y={crops[1][1]},"
            f"scale@zs{name}={scaled[0]}:{scaled[1]}:flags=bilinear,"
            f"crop@zf{name}=w={size[0]}:h={size[1]}:x={frame[0]}:y={frame[1]},setsar=1")
