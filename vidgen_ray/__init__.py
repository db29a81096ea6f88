"""VidGen on Ray: a written script in, a narrated, subtitled video out.

Importing this package stays light: no ray, no torch. ``render`` imports the farm on call.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vidgen_ray.config import RenderSettings
from vidgen_ray.storyboard import Storyboard

if TYPE_CHECKING:
    from vidgen_ray.pipeline.flow import RenderResult

__version__ = "0.1.0"
__all__ = ["RenderSettings", "Storyboard", "__version__", "analyze", "render"]


def analyze(text: str, *, filename: str | None = None,
            settings: RenderSettings | None = None) -> Storyboard:
    """Turn script text into a Storyboard with the analyser ``settings.llm`` names (the
    local one by default; gemini or openai call a language model)."""
    from vidgen_ray.pipeline.source import analyze_text

    return analyze_text(text, filename, settings)


def render(source: str | Path | Storyboard, out_dir: str | Path,
           settings: RenderSettings | None = None) -> RenderResult:
    """Render a script file (a Path, or a str naming an existing file), script text, or a
    Storyboard into ``out_dir``. Blocks until the video is done; raises its error if not."""
    from vidgen_ray.farm.connect import render as _render

    return _render(source, Path(out_dir), settings or RenderSettings())
