"""The soundtrack, made with FFmpeg's own sources and filters: no downloads, no licences.

ambience.py and music.py make the per-scene bed (by the storyboard's ambience and mood),
effects.py the one-shot sounds, mix.py the filter graph that puts speech on top and ducks
the bed under it, stems.py the export formats; render.py runs FFmpeg.
"""

from vidgen_ray.audio.ambience import AMBIENCE
from vidgen_ray.audio.effects import RECIPES as EFFECT_RECIPES
from vidgen_ray.audio.mix import (
    BUSES,
    TRUE_PEAK,
    Bed,
    bed_filters,
    effect_filters,
    loudnorm_filter,
    mix_args,
    mix_graph,
    parse_loudnorm,
    place_speech,
)
from vidgen_ray.audio.music import MOODS, arrange
from vidgen_ray.audio.render import Soundtrack, render_soundtrack
from vidgen_ray.audio.stems import FORMATS as STEM_FORMATS

# Part of every soundtrack's identity: bump it when a recipe or the mix changes.
AUDIO_VERSION = "3"

__all__ = ["AMBIENCE", "AUDIO_VERSION", "BUSES", "Bed", "EFFECT_RECIPES", "MOODS", "STEM_FORMATS",
           "TRUE_PEAK", "Soundtrack", "arrange", "bed_filters", "effect_filters",
           "loudnorm_filter", "mix_args", "mix_graph", "parse_loudnorm", "place_speech",
           "render_soundtrack"]
