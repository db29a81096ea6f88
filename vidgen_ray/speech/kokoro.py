"""Speech with Kokoro-82M (the ``kokoro`` package's ``KModel``): natural voices, faster than
real time on a laptop CPU, Apache-2.0 weights.

The model folder holds what the hub repository ``hexgrad/Kokoro-82M`` holds: ``config.json``,
the weights ``kokoro-v1_0.pth`` and one style tensor per voice in ``voices/NAME.pt``
(``af_heart``: American English, female). ``vidgen models download kokoro`` fetches it; after
that it loads from the cache with no network (``VIDGEN_OFFLINE=1`` makes that a rule). The
model loads once per worker on first use; casting needs only the voice names. Text becomes
phonemes through espeak-ng (see kokoro_text.py), each line is spoken with its voice's style
for that length, at the requested speed (Kokoro's own duration scale, pitch kept), and
resampled to 48 kHz for the mix.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidgen_ray.config.environment import hub_offline
from vidgen_ray.errors import DependencyError, RenderError, SettingsError
from vidgen_ray.speech import kokoro_text as text
from vidgen_ray.speech.bark import OUTPUT_RATE, finish
from vidgen_ray.speech.bark_text import to_int16
from vidgen_ray.speech.base import Speech, SpeechRequest
from vidgen_ray.storyboard import Storyboard

DEFAULT_MODEL = "hexgrad/Kokoro-82M"
WEIGHTS = "kokoro-v1_0.pth"
FILES = ("config.json", WEIGHTS, "voices/*.pt")
SAMPLE_RATE = 24_000  # Kokoro's output rate
DEFAULT_VOICE = "am_michael"


@dataclass(frozen=True)
class KokoroOptions:
    """What the backend is built with (config/backends/kokoro.py declares the settings)."""

    model: str = DEFAULT_MODEL  # a hub id or a folder in the repository's layout
    offline: bool = False
    device: str | None = None  # None: cuda when present

    @classmethod
    def from_settings(cls, settings) -> KokoroOptions:
        return cls(model=settings.kokoro_model, offline=settings.offline)


def kmodel_class():
    """``kokoro.model.KModel`` without running ``kokoro/__init__``, which imports the misaki
    G2P (and through it spaCy) that this backend does not use."""
    if "kokoro.model" not in sys.modules:
        spec = importlib.util.find_spec("kokoro")
        if spec is None or not spec.submodule_search_locations:
            raise DependencyError("the kokoro voice needs the kokoro package: pip install "
                                  "'vidgen-ray[models,kokoro]', then pip install --no-deps "
                                  "kokoro==0.9.4 (see README, Voices with Kokoro)")
        if "kokoro" not in sys.modules:
            package = types.ModuleType("kokoro")
            package.__path__ = list(spec.submodule_search_locations)
            package.__spec__ = spec
            sys.modules["kokoro"] = package
        from loguru import logger

        logger.disable("kokoro")  # what kokoro/__init__ does: no debug lines on stderr
    return importlib.import_module("kokoro.model").KModel


def model_folder(model: str, offline: bool) -> Path:
    """The folder holding the model: ``model`` itself, or its hub snapshot (from the cache;
    fetched when missing, unless offline)."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        return folder
    from huggingface_hub import snapshot_download

    try:
        with hub_offline(offline):
            return Path(snapshot_download(model, allow_patterns=list(FILES),
                                          local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - the hub's errors vary by version
        if offline:
            raise SettingsError(
                f"the Kokoro model {model!r} is not in the model cache and models load "
                "offline here: run 'vidgen models download kokoro' once with network, or set "
                "kokoro_model to a folder holding config.json, kokoro-v1_0.pth and voices/",
                field="kokoro_model") from None
        try:
            return Path(snapshot_download(model, allow_patterns=list(FILES)))
        except Exception:  # noqa: BLE001
            raise SettingsError(
                f"cannot load the Kokoro model {model!r} ({type(exc).__name__}): set "
                "kokoro_model to hexgrad/Kokoro-82M or a folder holding config.json, "
                "kokoro-v1_0.pth and voices/", field="kokoro_model") from None


class KokoroBackend:
    """SpeechBackend over Kokoro's KModel."""

    name = "kokoro"
    default_voice = DEFAULT_VOICE

    def __init__(self, options: KokoroOptions | None = None):
        self.options = options or KokoroOptions()
        self._folder: Path | None = None
        self._model = None
        self._styles: dict[str, object] = {}
        self._lock = threading.Lock()

    # ---- voices ----------------------------------------------------------------------

    def folder(self) -> Path:
        if self._folder is None:
            self._folder = model_folder(self.options.model, self.options.offline)
            for needed in ("config.json", WEIGHTS):
                if not (self._folder / needed).is_file():
                    raise SettingsError(f"the Kokoro model folder lacks {needed}: download it "
                                        "again with 'vidgen models download kokoro'",
                                        field="kokoro_model")
        return self._folder

    def voices(self) -> list[str]:
        """Every voice of the model folder this backend can speak (ja/zh voices left out)."""
        return sorted(p.stem for p in (self.folder() / "voices").glob("*.pt")
                      if text.voice_language(p.stem))

    def check_voice(self, voice: str) -> str:
        if voice in self.voices():
            return voice
        known = self.voices()
        sample = ", ".join(known[:4]) + (", ..." if len(known) > 4 else "")
        raise SettingsError(
            f"Kokoro has no voice {voice!r}: use one of {sample or DEFAULT_VOICE} "
            f"({len(known)} found; names are language, gender, name: af_heart is American "
            "English, female)", field="tts_voice")

    def cast(self, storyboard: Storyboard, narrator_voice: str | None) -> dict[str, str]:
        from vidgen_ray.speech.voice_casting import kokoro_cast

        text.check_language(storyboard.language)  # and every line's own, before the render
        for line in (line for scene in storyboard.scenes for line in scene.lines):
            if line.language:
                text.check_language(line.language)
        return kokoro_cast(storyboard, narrator_voice, self.voices(), self.check_voice)

    # ---- model -----------------------------------------------------------------------

    def version(self) -> str:
        import torch

        return (f"kokoro {self.options.model} ({WEIGHTS}, torch {torch.__version__}, "
                "espeak-ng phonemes)")

    def _device(self) -> str:
        import torch

        return self.options.device or ("cuda" if torch.cuda.is_available() else "cpu")

    def load(self) -> None:
        """Load the model now (workers do, before they report ready)."""
        self.model()

    def model(self):
        with self._lock:
            if self._model is None:
                folder = self.folder()
                kmodel = kmodel_class()
                model = kmodel(repo_id=self.options.model, config=str(folder / "config.json"),
                               model=str(folder / WEIGHTS))
                self._model = model.to(self._device()).eval()
        return self._model

    def style(self, voice: str):
        """The voice's style table (one 256-vector per phoneme count)."""
        if voice not in self._styles:
            import torch

            self.check_voice(voice)
            path = self.folder() / "voices" / f"{voice}.pt"
            self._styles[voice] = torch.load(path, map_location="cpu", weights_only=True)
        return self._styles[voice]

    # ---- speech ----------------------------------------------------------------------

    def synthesize(self, requests: list[SpeechRequest]) -> list[Speech]:
        speeches = []
        for request in requests:
            espeak = text.espeak_voice(request.language, request.voice)
            phonemes = text.phonemize(request.text, espeak)
            pieces = [self.speak(piece, request.voice, request.speed)
                      for piece in text.split_phonemes(phonemes)]
            samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
            if samples.size == 0:
                raise RenderError(f"Kokoro produced no sound for {request.text[:60]!r}: the "
                                  "line has no speakable words", stage="speech")
            speeches.append(Speech(finish(to_int16(samples), SAMPLE_RATE, 1.0),
                                   OUTPUT_RATE))
        return speeches

    def speak(self, phonemes: str, voice: str, speed: float = 1.0) -> np.ndarray:
        """Float samples at 24 kHz for one piece of phonemes (at most 510 symbols)."""
        import torch

        pack = self.style(voice)
        reference = pack[min(len(phonemes), len(pack)) - 1]
        with torch.inference_mode():
            audio = self.model()(phonemes, reference, speed=speed)
        return audio.float().cpu().numpy().reshape(-1)
