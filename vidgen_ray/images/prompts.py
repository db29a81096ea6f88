"""What SDXL is asked for (pure): the prompt of a scene or a portrait, style presets, the
generation size, and which seed each try uses. No torch here, so all of it is unit-tested.

Prompts fit the text encoders' window. SDXL's two CLIP encoders read 77 tokens and drop the
rest, and a scene's description with its cast runs to ~144: the style, written last, was
never seen. A prompt is therefore built in order of importance (the subject, the characters,
the mood, the style) and trimmed, measured with the pipeline's own tokenizers (``fits``),
until it fits: the mood goes first, then the description's later sentences word by word,
then the characters' looks (their names stay), then the subject's last words. The style is
never cut. Encoding long prompts in 77-token windows and joining the embeddings was the
other way: it was not taken because SDXL's pooled embedding (the global look, the part the
style words steer most) comes from one window's end token, so the style in a later window
would still be lost there, and the model never saw joined windows in training.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from vidgen_ray.errors import SettingsError
from vidgen_ray.images.base import CharacterLook, ImageRequest

# Added after every prompt; "none" adds nothing.
STYLES: dict[str, str] = {
    "none": "",
    "photorealistic": "photorealistic, natural light, 35mm photograph, sharp focus, "
                      "high detail",
    "cinematic": "cinematic film still, dramatic lighting, shallow depth of field, "
                 "anamorphic, color graded",
    "anime": "anime illustration, cel shading, clean line art, vibrant colors",
    "watercolor": "watercolor painting, soft washes, paper texture, loose brushwork",
    "comic": "comic book panel, bold ink outlines, halftone shading, flat colors",
    "storybook": "children's storybook illustration, gouache, warm palette, whimsical",
}
MOOD_WORDS: dict[str, str] = {
    "neutral": "", "calm": "calm, serene", "tense": "tense, ominous", "joyful": "joyful, bright",
    "sad": "melancholic, muted", "mysterious": "mysterious, misty", "epic": "epic, grand scale",
}
# SDXL was trained on these sizes (about one megapixel, sides multiples of 64).
SDXL_SIZES: tuple[tuple[int, int], ...] = (
    (1024, 1024), (1152, 896), (896, 1152), (1216, 832), (832, 1216), (1344, 768),
    (768, 1344), (1536, 640), (640, 1536),
)
MAX_SAFETY_TRIES = 4  # a flagged picture is made again with the next seed, this often at most


def nearest_sdxl_size(width: int, height: int) -> tuple[int, int]:
    """The SDXL training size whose aspect is closest to width:height (1344x768 for 16:9)."""
    aspect = width / height
    return min(SDXL_SIZES, key=lambda size: abs(size[0] / size[1] - aspect))


def parse_resolution(text: str) -> tuple[int, int]:
    """'1344x768' -> (1344, 768); both sides multiples of 8 in 64..4096, as SDXL needs."""
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise SettingsError(f"image_resolution {text!r} is not WIDTHxHEIGHT: write e.g. "
                            "1344x768, or leave it empty for the SDXL size nearest the video",
                            field="image_resolution")
    width, height = int(parts[0]), int(parts[1])
    for side in (width, height):
        if not 64 <= side <= 4096 or side % 8:
            raise SettingsError(f"image_resolution {text!r}: each side must be a multiple of 8 "
                                "from 64 to 4096 (SDXL works in 8-pixel latents), e.g. 1344x768",
                                field="image_resolution")
    return width, height


def generation_size(resolution: str | None, video: tuple[int, int]) -> tuple[int, int]:
    """The size SDXL draws at: the setting, else the SDXL size nearest the video's aspect."""
    return parse_resolution(resolution) if resolution else nearest_sdxl_size(*video)


def _join(*parts: str) -> str:
    return ", ".join(p.strip().rstrip(".,") for p in parts if p and p.strip())


def look_phrase(look: CharacterLook) -> str:
    """'MARA (a tall woman with a red coat)': the fixed words that describe a character."""
    name = look.name.title()
    return f"{name} ({look.description.strip()})" if look.description.strip() else name


Fits = Callable[[str], bool]  # whether the text encoders see all of a prompt


def scene_prompt(request: ImageRequest, style: str, fits: Fits | None = None) -> str:
    """Description, the characters present with their fixed looks, mood, then the style;
    trimmed until ``fits`` (module docstring), the style always kept."""
    check_style(style)
    looks = {look.name: look for look in request.looks}
    names = [n.title() for n in request.characters]
    cast = [look_phrase(looks[n]) if n in looks else n.title() for n in request.characters]
    subject, rest = _first_sentence(request.description or request.title)
    mood = MOOD_WORDS.get(request.mood, "")
    prompt = ""
    for prompt in _shorter(subject, rest, cast, names, mood, STYLES[style]):
        if fits is None or fits(prompt):
            return prompt
    return prompt  # the shortest: the subject's first words, the names, the style


def _shorter(subject: str, rest: str, cast: list[str], names: list[str], mood: str,
             style: str) -> Iterator[str]:
    """The scene's prompt, then ever shorter ones, least important words first."""
    def prompt(description: str, people: list[str], mood: str = "") -> str:
        featuring = "featuring " + " and ".join(people) if people else ""
        return _join(description, featuring, mood, style)

    yield prompt(f"{subject} {rest}", cast, mood)
    rest_words = rest.split()
    for keep in range(len(rest_words), -1, -1):
        yield prompt(" ".join([subject, *rest_words[:keep]]), cast)
    for plain in range(len(cast) - 1, -1, -1):  # the last characters' looks first
        yield prompt(subject, cast[:plain] + names[plain:])
    subject_words = subject.split()
    for keep in range(len(subject_words) - 1, 0, -1):
        yield prompt(" ".join(subject_words[:keep]), names)


def _first_sentence(text: str) -> tuple[str, str]:
    """(the first sentence, the rest): the first sentence names the scene's subject."""
    text = " ".join(text.split())
    for end, char in enumerate(text):
        if char in ".!?;" and (end + 1 == len(text) or text[end + 1] == " "):
            return text[:end + 1], text[end + 1:].strip()
    return text, ""


def portrait_prompt(look: CharacterLook, style: str, fits: Fits | None = None) -> str:
    """A reference portrait: the character alone, face and clothes clearly visible; the
    framing words go before the style when the prompt is too long."""
    check_style(style)
    full = _join(f"portrait of {look_phrase(look)}", "head and shoulders, facing the viewer, "
                 "plain background, even light", STYLES[style])
    if fits is None or fits(full):
        return full
    return _join(f"portrait of {look_phrase(look)}", STYLES[style])


def check_style(style: str) -> None:
    if style not in STYLES:
        raise SettingsError(f"unknown image_style {style!r}: choose one of {', '.join(STYLES)}",
                            field="image_style")


def try_seeds(seed: int, tries: int = MAX_SAFETY_TRIES) -> list[int]:
    """The seeds tried in turn when the safety checker flags a picture: seed, seed+1, ..."""
    return [(seed + n) % 2**32 for n in range(tries)]
