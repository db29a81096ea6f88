"""What SDXL is asked for (pure): the prompt of a scene or a portrait, style presets, the
generation size, and which seed each try uses. No torch here, so all of it is unit-tested."""

from __future__ import annotations

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


def scene_prompt(request: ImageRequest, style: str) -> str:
    """Description, the characters present with their fixed looks, mood, then the style."""
    check_style(style)
    looks = {look.name: look for look in request.looks}
    people = [look_phrase(looks[n]) if n in looks else n.title() for n in request.characters]
    cast = "featuring " + " and ".join(people) if people else ""
    return _join(request.description or request.title, cast, MOOD_WORDS.get(request.mood, ""),
                 STYLES[style])


def portrait_prompt(look: CharacterLook, style: str) -> str:
    """A reference portrait: the character alone, face and clothes clearly visible."""
    check_style(style)
    return _join(f"portrait of {look_phrase(look)}", "head and shoulders, facing the viewer, "
                 "plain background, even light", STYLES[style])


def check_style(style: str) -> None:
    if style not in STYLES:
        raise SettingsError(f"unknown image_style {style!r}: choose one of {', '.join(STYLES)}",
                            field="image_style")


def try_seeds(seed: int, tries: int = MAX_SAFETY_TRIES) -> list[int]:
    """The seeds tried in turn when the safety checker flags a picture: seed, seed+1, ..."""
    return [(seed + n) % 2**32 for n in range(tries)]
