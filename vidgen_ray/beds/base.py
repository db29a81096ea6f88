"""What a bed backend is: a text prompt and a length in, a WAV bed out (pure).

The request, the contract, the checks (named problems, named fixes) and the prompts made
from a scene's storyboard mood and ambience. A music prompt says genre, instruments, feel
and tempo (each tempo inside the range audio/music.py plays that mood at, so a generated bed
and a procedural one move alike); an ambience prompt says what a place sounds like. Both are
written as Stable Audio Open's training captions read (Freesound and Free Music Archive
descriptions): plain nouns and adjectives, the BPM spelt out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from vidgen_ray.errors import SettingsError
from vidgen_ray.storyboard import Ambience, Mood
from vidgen_ray.timeline import AUDIO_RATE

BedKind = Literal["music", "ambience"]
KINDS: tuple[str, ...] = get_args(BedKind)
MAX_SECONDS = 3600.0  # one scene's bed; longer ones are a script split into scenes
MAX_SEED = 2**32 - 1  # torch.Generator.manual_seed takes any 64-bit int; keep seeds portable
MAX_PROMPT = 1000  # characters; the text encoder reads its first 128 tokens anyway

# genre and feel, instruments, tempo (inside audio.music.MOODS[mood].tempo).
MUSIC: dict[str, tuple[str, str, int]] = {
    "neutral": ("soft ambient background music, unobtrusive",
                "warm synth pads and gentle piano", 60),
    "calm": ("calm peaceful ambient music, relaxing",
             "slow felt piano and soft string pads", 66),
    "tense": ("tense cinematic suspense underscore, dark, dissonant",
              "pulsing low synth bass, ticking percussion and tremolo strings", 92),
    "joyful": ("upbeat joyful acoustic pop, happy, bright",
               "ukulele, acoustic guitar, light hand claps and glockenspiel", 110),
    "sad": ("sad melancholic ballad, minor key, emotional",
            "slow solo piano and soft cello", 60),
    "mysterious": ("mysterious dark ambient music, minor key, eerie",
                   "hazy synth drones, celesta and distant bells", 68),
    "epic": ("epic orchestral cinematic music, heroic, powerful",
             "taiko drums, brass, choir and a strings ostinato", 80),
}
AMBIENCE: dict[str, str] = {
    "room": "quiet room tone, indoor ambience, soft air conditioning hum, faint distant sounds",
    "rain": "steady rain falling on a roof and a window, gentle rain ambience",
    "wind": "strong wind blowing through trees and around a house, gusts, howling wind",
    "ocean": "ocean waves breaking on a sandy beach, surf and sea ambience",
    "forest": "forest ambience in daytime, birds singing, leaves rustling in a light breeze",
    "city": "busy city street ambience, traffic passing, distant car horns, people walking",
    "night": "night ambience in the countryside, crickets chirping, a distant owl, quiet",
    "fire": "crackling campfire, burning wood popping and hissing, close fire ambience",
    "crowd": "crowd murmur in a large hall, many people talking indistinctly, walla",
}
# A bed sits under narration: no voices of its own; no music in an ambience.
NEGATIVE: dict[str, str] = {
    "music": "vocals, singing, speech, low quality, distorted, noise, clipping",
    "ambience": "music, melody, speech, voice, low quality, distorted, clipping",
}


@dataclass(frozen=True)
class BedRequest:
    """One scene's bed. ``None`` for the negative prompt, steps or guidance: the backend's
    default (for Stable Audio Open: config/backends/stable_audio.py; the negative prompt:
    NEGATIVE[kind]); an empty negative prompt: none."""

    kind: BedKind
    prompt: str  # bed_prompt(mood, ambience, kind), or the user's own words
    seconds: float
    seed: int = 0
    negative_prompt: str | None = None
    steps: int | None = None
    guidance_scale: float | None = None

    @property
    def samples(self) -> int:
        """The bed's exact length at the project's audio rate (as the mix trims its beds)."""
        return round(self.seconds * AUDIO_RATE)


class BedBackend(Protocol):
    name: str

    def make_bed(self, request: BedRequest) -> bytes:
        """A WAV, 16-bit mono at AUDIO_RATE (as audio/ makes its beds), of exactly
        ``request.samples`` samples."""
        ...

    def version(self) -> str:
        """What was loaded: part of a bed's content key."""
        ...


def bed_prompt(mood: str, ambience: str, kind: str) -> str | None:
    """The text prompt for a scene's ``kind`` of bed: its mood's music, or its place's sound
    (None for ambience "none", as audio.ambience.ambience_source has no bed for it)."""
    _check_choice("bed kind", kind, KINDS, "kind")
    _check_choice("mood", mood, get_args(Mood), "mood")
    _check_choice("ambience", ambience, get_args(Ambience), "ambience")
    if kind == "ambience":
        return None if ambience == "none" else f"{AMBIENCE[ambience]}, field recording"
    feel, instruments, bpm = MUSIC[mood]
    return f"{feel}, {instruments}, {bpm} BPM, instrumental background music"


def _check_choice(what: str, value: str, allowed: tuple[str, ...], field: str) -> None:
    if value not in allowed:
        raise SettingsError(f"{what} {value!r} is not one of {', '.join(allowed)}: pick one "
                            "of those (the storyboard's values)", field=field)


def check_request(request: BedRequest, *, steps_max: int = 500) -> None:
    """Everything about a request that is wrong before any model runs."""
    _check_choice("bed kind", request.kind, KINDS, "kind")
    if not request.prompt.strip():
        raise SettingsError(f"the {request.kind} prompt is empty: describe the sound, e.g. "
                            f"{bed_prompt('calm', 'rain', request.kind)!r}", field="prompt")
    for name, text in (("prompt", request.prompt),
                       ("negative prompt", request.negative_prompt or "")):
        if len(text) > MAX_PROMPT:
            raise SettingsError(f"the {name} is {len(text)} characters, over {MAX_PROMPT}: "
                                "shorten it (the model reads about 100 words)",
                                field=name.replace(" ", "_"))
    if not 0 < request.seconds <= MAX_SECONDS or request.samples < 1:
        raise SettingsError(f"bed length {request.seconds} s is outside (0, {MAX_SECONDS:.0f}] "
                            "s: give the scene's length in seconds", field="seconds")
    if not 0 <= request.seed <= MAX_SEED:
        raise SettingsError(f"seed {request.seed} is outside 0..{MAX_SEED}: pick a seed "
                            "in that range", field="seed")
    if request.steps is not None and not 1 <= request.steps <= steps_max:
        raise SettingsError(f"{request.steps} steps is outside 1..{steps_max}: Stable Audio "
                            "Open's authors sample with 100-200", field="steps")
    if request.guidance_scale is not None and not 1.0 <= request.guidance_scale <= 20.0:
        raise SettingsError(f"guidance scale {request.guidance_scale} is outside 1..20: ~7 "
                            "follows the prompt closely, 1 turns guidance off",
                            field="guidance_scale")
