"""Pictures, clips and music of the user's own: where they are, and whether they can be used.

Paths in a storyboard are resolved against the script's folder once, when it is loaded
(``resolve``); every file is then checked before the render starts (``check``), so a missing,
unreadable, wrong or too short file is refused with its name and the fix, not found broken
half way through a render. The job service maps the names of uploaded files instead
(``resolve`` with ``uploads``) and refuses every other path.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

from vidgen_ray.errors import MediaError, ToolError
from vidgen_ray.programs import probe
from vidgen_ray.storyboard import Storyboard

NO_MUSIC = "none"
MIN_CLIP_SECONDS = 0.5  # shorter would loop as a flicker
MIN_MUSIC_SECONDS = 1.0
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")


def references(storyboard: Storyboard, music: str | None = None) -> list[str]:
    """Every media file a render of ``storyboard`` reads (with --music ``music``), in order."""
    found = [s.media.path for s in storyboard.scenes if s.media]
    found += [s.music for s in storyboard.scenes if s.music and s.music != NO_MUSIC]
    if music and music != NO_MUSIC:
        found.append(music)
    return list(dict.fromkeys(found))


def resolve(storyboard: Storyboard, place: Callable[[str], str]) -> Storyboard:
    """A copy with every media path replaced by ``place(path)`` (an absolute path)."""
    scenes = []
    for scene in storyboard.scenes:
        update = {}
        if scene.media:
            update["media"] = scene.media.model_copy(update={"path": place(scene.media.path)})
        if scene.music and scene.music != NO_MUSIC:
            update["music"] = place(scene.music)
        scenes.append(scene.model_copy(update=update) if update else scene)
    return storyboard.model_copy(update={"scenes": scenes})


def beside(folder: Path) -> Callable[[str], str]:
    """Relative paths read from ``folder`` (a script's): the ``place`` of a local render."""
    def place(path: str) -> str:
        given = Path(path).expanduser()
        return str((folder / given).resolve())  # folder / an absolute path is that path
    return place


def check(storyboard: Storyboard, music: str | None = None,
          shown: Callable[[str], str] = str) -> None:
    """Refuse, before anything renders, a media file that cannot be used; ``shown`` gives
    the name to print for a path (the upload's name through the service)."""
    for scene_number, scene in enumerate(storyboard.scenes, 1):
        where = f"scene {scene_number}"
        if scene.media and scene.media.kind == "image":
            check_picture(Path(scene.media.path), shown(scene.media.path), where)
        elif scene.media:
            check_clip(Path(scene.media.path), shown(scene.media.path), where)
        if scene.music and scene.music != NO_MUSIC:
            check_music(Path(scene.music), shown(scene.music), f"{where}'s music")
    if music and music != NO_MUSIC:
        check_music(Path(music), shown(music), "--music")


def _refuse(name: str, where: str, problem: str, fix: str) -> MediaError:
    return MediaError(f"{where}: {name} {problem}: {fix}")


def _read(path: Path, name: str, where: str) -> bytes:
    if not path.exists():
        raise _refuse(name, where, "was not found", "check the path (relative to the "
                      "script's folder) or upload the file with the job")
    if not path.is_file():
        raise _refuse(name, where, "is not a file", "give a file, not a folder")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _refuse(name, where, f"cannot be read ({exc.strerror})",
                      "check its permissions") from None


def check_picture(path: Path, name: str, where: str) -> None:
    picture_png(_read(path, name, where), name, where)


def picture_png(data: bytes, name: str, where: str = "picture") -> bytes:
    """The picture as an upright RGB PNG (the scene's still); refused if it is none."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in IMAGE_FORMATS:
                raise _refuse(name, where, f"is a {image.format} picture",
                              f"use one of {', '.join(IMAGE_FORMATS)}")
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _refuse(name, where, "is not a picture that can be read", "give a PNG or "
                      "JPEG file (or mark it kind: video if it is a clip)") from exc
    out = io.BytesIO()
    upright.save(out, format="PNG")
    return out.getvalue()


def _probe(path: Path, name: str, where: str) -> dict:
    _read(path, name, where)
    try:
        return probe(path)
    except ToolError:
        raise _refuse(name, where, "is not a media file FFmpeg can read",
                      "give a video (MP4, MOV, WebM) or audio file (WAV, MP3, FLAC)") from None


def _seconds(info: dict, stream: dict) -> float:
    for value in (stream.get("duration"), info.get("format", {}).get("duration")):
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return 0.0


def check_clip(path: Path, name: str, where: str) -> float:
    info = _probe(path, name, where)
    video = [s for s in info.get("streams", []) if s.get("codec_type") == "video"
             and not s.get("disposition", {}).get("attached_pic")]
    if not video:
        raise _refuse(name, where, "has no video stream", "give a video clip, or a picture "
                      "file (.png, .jpg) for a still")
    seconds = _seconds(info, video[0])
    if seconds < MIN_CLIP_SECONDS:
        raise _refuse(name, where, f"lasts {seconds:.2f} s",
                      f"a clip needs at least {MIN_CLIP_SECONDS} s (it is looped to fill the "
                      "scene); use a longer clip or a picture")
    return seconds


def check_music(path: Path, name: str, where: str) -> float:
    info = _probe(path, name, where)
    sound = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not sound:
        raise _refuse(name, where, "has no audio stream", "give a music file (WAV, MP3, FLAC, "
                      "OGG, M4A)")
    seconds = _seconds(info, sound[0])
    if seconds < MIN_MUSIC_SECONDS:
        raise _refuse(name, where, f"lasts {seconds:.2f} s",
                      f"music needs at least {MIN_MUSIC_SECONDS} s (it is looped to fill "
                      "the scene)")
    return seconds


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def music_files(storyboard: Storyboard, music: str | None) -> list[str]:
    """The music files a render plays: scenes' own, then --music's."""
    found = [s.music for s in storyboard.scenes if s.music and s.music != NO_MUSIC]
    if music and music != NO_MUSIC:
        found.append(music)
    return list(dict.fromkeys(found))


def first_frame_png(clip: Path) -> bytes:
    """A clip's first frame as a PNG: the scene's still where one is shown (the web monitor,
    the edit timelines, manifest.json's pictures)."""
    from vidgen_ray.programs import ffmpeg

    with tempfile.TemporaryDirectory(prefix="vidgen-frame-") as tmp:
        out = Path(tmp) / "frame.png"
        ffmpeg(["-i", str(clip), "-frames:v", "1", "-update", "1", str(out)])
        return out.read_bytes()


def own_still(kind: str, path: str) -> tuple[str, bytes]:
    """(the digest of the user's file, the scene's still as a PNG) for a scene's own
    picture or clip, already checked (``check``)."""
    data = Path(path).read_bytes()
    png = picture_png(data, path) if kind == "image" else first_frame_png(Path(path))
    return digest(data), png


def for_local_render(storyboard: Storyboard, music: str | None, source: object
                     ) -> tuple[Storyboard, str | None]:
    """A local render's storyboard with its media paths read from the script's folder (the
    current one for script text), and --music from the current folder; both checked."""
    is_file = isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                           and len(source) < 4096 and Path(source).is_file())
    folder = Path(source).parent if is_file else Path.cwd()  # type: ignore[arg-type]
    storyboard = resolve(storyboard, beside(folder))
    if music and music != NO_MUSIC:
        music = beside(Path.cwd())(music)
    check(storyboard, music)
    return storyboard, music


def read_checked(path: str) -> bytes:
    """A file checked before the render; gone or unreadable since, it is named, not a crash."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise MediaError(f"{path} was readable when the render started but is not now "
                         f"({exc.strerror}): put it back and run the render again",
                         public="a picture, clip or music file of this job is gone from the "
                         "service: submit the job again with its media") from None


def digest_checked(path: str) -> str:
    return digest(read_checked(path))
