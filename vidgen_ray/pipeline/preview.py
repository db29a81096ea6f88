"""The preview that plays while a job renders: an HLS playlist of type EVENT
(``preview.m3u8``) that grows in the job's folder as the video's chunks are encoded.

Each main-size chunk becomes one MPEG-TS segment (``preview/00000.ts``, numbered by its place
in the video): its H.264 copied without re-encoding (every chunk starts on a keyframe with a
closed GOP, pipeline/assembly.py), its timestamps shifted by the chunk's start, so the
segments play as one continuous stream and need no discontinuity tags; each segment's MPEG-TS
continuity counters are renumbered to go on from the segment before it when it is listed
(each chunk is muxed alone, so its counters start at 0, and a reader that follows the
stream across segments, FFmpeg's HLS demuxer for one, marks the packet before every such
jump corrupt). Chunks finish in any order; the playlist lists a segment only once every
segment before it is listed, and ends (``#EXT-X-ENDLIST``) when the job is done.

Speech only, no beds: the final mix waits for every line, but a chunk is cut only once
the lines it overlaps are voiced, so each segment carries the speech heard in it (the job
flow lays it out, pipeline/video_stage.py), encoded as AAC; segments with no line carry
silence, so every segment has the same two streams. Each segment's AAC starts afresh
(its encoder's priming), so a word that crosses a segment's edge may click there: the
final video's sound has no such edges.

``Playlist`` is the pure part (what is listed, the playlist's text); ``Preview`` writes the
files, each atomically (write, then rename), so a player never reads half a file.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from vidgen_ray.errors import VidgenError
from vidgen_ray.programs import ffmpeg
from vidgen_ray.timeline import AUDIO_RATE

log = logging.getLogger("vidgen.preview")

PLAYLIST = "preview.m3u8"
SEGMENTS = "preview"  # the folder beside it that holds the segments


@dataclass
class Playlist:
    """Segments of frames [start, end) at ``fps``, listed contiguously from frame 0.
    ``target``: EXT-X-TARGETDURATION, fixed before the first segment (an EVENT playlist may
    not change it), so it must cover the longest chunk there can be (``target_duration``)."""

    fps: float
    target: int
    listed: list[tuple[int, int]] = field(default_factory=list)
    waiting: dict[int, int] = field(default_factory=dict)  # start -> end, not yet listed
    ended: bool = False

    def add(self, start: int, end: int) -> list[tuple[int, int]]:
        """Note a segment cut; return the segments this lists (none while one before it is
        missing). Adding a listed or waiting segment again lists nothing new."""
        if any(a == start for a, _ in self.listed):
            return []
        self.waiting[start] = end
        new = []
        while self.next_frame in self.waiting:
            a = self.next_frame
            new.append((a, self.waiting.pop(a)))
            self.listed.append(new[-1])
        return new

    @property
    def next_frame(self) -> int:
        return self.listed[-1][1] if self.listed else 0

    def end(self) -> None:
        self.ended = True

    def text(self, name_of) -> str:
        """The playlist; ``name_of(start)`` is a segment's URI relative to the playlist."""
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{self.target}",
                 "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:EVENT",
                 "#EXT-X-INDEPENDENT-SEGMENTS"]
        for a, b in self.listed:
            lines += [f"#EXTINF:{(b - a) / self.fps:.6f},", name_of(a)]
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"


def served_playlist(text: str | None, fps: float, chunk_seconds: float, ended: bool) -> str:
    """The playlist as a client is served it (pure). From submit on, not only from the first
    segment: before it, an empty EVENT playlist of the job's target duration, which players
    poll. Once the job has ended (done, failed or cancelled) it ends too, so no player waits
    for segments of a job that will make none; a failed job's file is left as it was."""
    if text is None:
        return Playlist(fps, target_duration(chunk_seconds, fps), ended=ended).text(str)
    if ended and "#EXT-X-ENDLIST" not in text:
        return text + "#EXT-X-ENDLIST\n"
    return text


def target_duration(chunk_seconds: float, fps: float) -> int:
    """Whole seconds no chunk exceeds: a chunk is ``size`` frames, but the last one takes in
    a short remainder, so it stays under 1.5 chunks (timeline.Timeline.chunks)."""
    size = max(1, round(chunk_seconds * fps))
    return max(1, math.ceil(1.5 * size / fps))


def segment_name(start: int, chunk_frames: int) -> str:
    """A segment's path relative to the job's folder: its chunk's place in the video."""
    return f"{SEGMENTS}/{start // chunk_frames:05d}.ts"


TS_PACKET = 188
NULL_PID = 0x1FFF


def continue_counters(data: bytes, counters: dict[int, int]) -> bytes:
    """``data`` (MPEG-TS) with each PID's 4-bit continuity counter going on from
    ``counters`` (PID -> the last counter used, updated here). Only packets that carry a
    payload count (ISO 13818-1 2.4.3.3); null packets have no counter."""
    if len(data) % TS_PACKET or any(data[i] != 0x47 for i in range(0, len(data), TS_PACKET)):
        raise ValueError("not an MPEG-TS stream of whole 188-byte packets")
    out = bytearray(data)
    for i in range(0, len(out), TS_PACKET):
        pid = ((out[i + 1] & 0x1F) << 8) | out[i + 2]
        if pid == NULL_PID:
            continue
        if out[i + 3] & 0x10:  # a payload: the next counter; none: the counter stays
            counters[pid] = (counters.get(pid, -1) + 1) & 0x0F
        elif pid not in counters:
            continue
        out[i + 3] = (out[i + 3] & 0xF0) | counters[pid]
    return bytes(out)


AAC_PRIMING = 1024 / AUDIO_RATE  # FFmpeg's AAC encoder's delay: one frame


def segment_args(chunk: Path, speech: Path | None, seconds: float, offset_s: float,
                 target: Path) -> list[str]:
    """FFmpeg's arguments for one segment (pure): the chunk's video copied, the speech (or
    silence, so that every segment has the same two streams) as AAC cut to the segment's
    length, timestamps from ``offset_s`` (no mux delay: segment k+1 starts where k ends),
    all late by AAC's priming, whose packets come that much before the sound: the first
    segment's would start before 0, and FFmpeg would then shift that segment alone."""
    sound = (["-t", f"{seconds:.6f}", "-i", str(speech)] if speech is not None else
             ["-f", "lavfi", "-t", f"{seconds:.6f}", "-i", f"anullsrc=r={AUDIO_RATE}:cl=mono"])
    return ["-i", str(chunk), *sound, "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy",
            "-c:a", "aac", "-b:a", "96k", "-ar", str(AUDIO_RATE), "-ac", "1",
            "-muxdelay", "0", "-muxpreload", "0",
            "-output_ts_offset", f"{offset_s + AAC_PRIMING:.6f}", "-f", "mpegts", str(target)]


def cut_segment(chunk: Path, target: Path, seconds: float, offset_s: float,
                speech: bytes | None) -> None:
    """Write the segment of ``chunk`` (``seconds`` long, at ``offset_s`` in the video) with
    its speech (a WAV of that length) to ``target``, whole or not at all."""
    part = target.with_name(target.name + ".part")
    wav = target.with_name(target.name + ".wav")
    try:
        if speech is not None:
            wav.write_bytes(speech)
        ffmpeg(segment_args(chunk, wav if speech is not None else None, seconds, offset_s,
                            part))
        part.replace(target)
    finally:
        wav.unlink(missing_ok=True)


class Preview:
    """The preview of one job in ``out_dir``: started afresh (a retry's old preview goes);
    ``first_seconds``: from ``started`` (time.perf_counter) to the first segment listed."""

    def __init__(self, out_dir: Path, fps: float, chunk_seconds: float, started: float):
        self.out_dir, self.started = Path(out_dir), started
        self.chunk_frames = max(1, round(chunk_seconds * fps))
        self.playlist = Playlist(fps, target_duration(chunk_seconds, fps))
        self.first_seconds: float | None = None
        self._counters: dict[int, int] = {}  # continuity counters after the last listed
        (self.out_dir / PLAYLIST).unlink(missing_ok=True)
        shutil.rmtree(self.out_dir / SEGMENTS, ignore_errors=True)
        (self.out_dir / SEGMENTS).mkdir(parents=True, exist_ok=True)

    async def add(self, start: int, end: int, chunk: Path, speech: bytes | None = None) -> None:
        """Cut the stored chunk of frames [start, end) into its segment with ``speech`` (a
        WAV of the lines heard in it; None: silence), then list what it allows. The preview
        only shows the job: a segment that cannot be made is logged (the playlist then
        stops before it), and the job goes on."""
        try:
            await self._add(start, end, chunk, speech)
        except (VidgenError, OSError, ValueError) as exc:
            log.warning("%s: no preview segment for frames %d-%d: %s", self.out_dir, start,
                        end, exc)

    async def _add(self, start: int, end: int, chunk: Path, speech: bytes | None) -> None:
        if any(a == start for a, _ in self.playlist.listed) or start in self.playlist.waiting:
            return
        target = self.out_dir / segment_name(start, self.chunk_frames)
        fps = self.playlist.fps
        await asyncio.to_thread(cut_segment, chunk, target, (end - start) / fps, start / fps,
                                speech)
        listed = self.playlist.add(start, end)
        if listed:
            for a, _ in listed:  # in order: each segment's counters go on from the last's
                await asyncio.to_thread(self._renumber, self.out_dir / segment_name(
                    a, self.chunk_frames))
            if self.first_seconds is None:
                self.first_seconds = time.perf_counter() - self.started
            self._write()

    def end(self) -> None:
        self.playlist.end()
        self._write()

    def files(self) -> list[str]:
        """The playlist and its segments, relative to the job's folder."""
        return [PLAYLIST, *(segment_name(a, self.chunk_frames) for a, _ in self.playlist.listed)]

    def report(self) -> dict:
        """What the manifest says of the preview."""
        return {"playlist": PLAYLIST, "segments": len(self.playlist.listed),
                "first_segment_seconds": (None if self.first_seconds is None
                                          else round(self.first_seconds, 3))}

    def _renumber(self, path: Path) -> None:
        part = path.with_name(path.name + ".part")
        part.write_bytes(continue_counters(path.read_bytes(), self._counters))
        part.replace(path)

    def _write(self) -> None:
        path = self.out_dir / PLAYLIST
        part = path.with_name(path.name + ".part")
        part.write_text(self.playlist.text(lambda a: segment_name(a, self.chunk_frames)),
                        encoding="utf-8")
        part.replace(path)
