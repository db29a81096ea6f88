"""The analysis section: which analyser reads the script, and the language models' options
(config/backends/llm.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vidgen_ray.config.backends.llm import LlmSettings
from vidgen_ray.config.scope import Section


class AnalysisChoice(Section):
    """Which analyser reads the script."""

    llm: Literal["local", "gemini", "openai"] = Field(
        "local", description="Script analyser: local (rules), gemini, or openai (any "
        "OpenAI-compatible server: Ollama, vLLM, LM Studio).")


class AnalysisSection(LlmSettings, AnalysisChoice):
    """How a script becomes a storyboard: the analyser, then the language models' options."""
