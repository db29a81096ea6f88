"""What a language model is asked, and how long scripts are cut and joined again. Pure.

The local parser's storyboard is the reference: its scenes are cut into parts that fit one
answer (``split_parts``), each part is put in a prompt (``build_prompt``) with the cast the
earlier parts settled, and the answers are joined (``merge_parts``), the first description
of a character winning, so a character looks the same in every part.
"""

from __future__ import annotations

import json

from vidgen_ray.storyboard import EFFECTS, NARRATOR, Character, Scene, Storyboard

PROMPT_VERSION = "3"  # part of the cache key: a new prompt analyses again
CHARS_PER_TOKEN = 3.5  # JSON text; a safe average for Gemini and Llama tokenizers
ANSWER_SHARE = 0.45  # of an answer, the part repeating the parsed scenes; the rest is new


def response_schema() -> dict:
    """The Storyboard's JSON schema: the answer's shape, checked by the same pydantic model."""
    return Storyboard.model_json_schema()


def part_budget(max_tokens: int) -> int:
    """Characters of parsed scenes (as JSON) one part may hold so that its answer, which
    repeats every line and adds descriptions, fits in ``max_tokens`` output tokens."""
    return int(max_tokens * CHARS_PER_TOKEN * ANSWER_SHARE)


def _scene_size(scene: Scene) -> int:
    return len(scene.model_dump_json(exclude_defaults=True))


def split_parts(reference: Storyboard, budget: int) -> list[Storyboard]:
    """Consecutive scenes grouped into parts of at most ``budget`` characters each (a scene
    larger than that is a part of its own: scenes are never cut). Each part lists the
    characters its scenes use."""
    groups: list[list[Scene]] = [[]]
    size = 0
    for scene in reference.scenes:
        scene_size = _scene_size(scene)
        if groups[-1] and size + scene_size > budget:
            groups.append([])
            size = 0
        groups[-1].append(scene)
        size += scene_size
    return [_part(reference, scenes) for scenes in groups if scenes]


def _part(reference: Storyboard, scenes: list[Scene]) -> Storyboard:
    used = {line.speaker for s in scenes for line in s.lines} | {n for s in scenes
                                                                 for n in s.characters}
    cast = [c for c in reference.characters if c.name in used]
    return reference.model_copy(update={"scenes": scenes, "characters": cast})


RULES = """\
You turn a script into a storyboard for a narrated, illustrated video. Answer with one JSON
object that matches the given JSON schema, and nothing else.

The script, already parsed into scenes and spoken lines, is below as JSON.
{lines_rule}
- Every line's speaker is NARRATOR or a name in "characters" (upper case, as written).
- Scenes: keep their order. For each scene write "description": what the picture shows, in
  one or two sentences, with its visual style, lighting and camera framing (e.g. "Wide shot,
  low golden light, painterly: ..."). Set "mood" ({moods}), "ambience" ({ambiences}) and
  "characters" (the names present). Add "sfx" cues ({effects}) where the script implies a
  sound, each with "line" (it sounds just before that 0-based line) or "offset" seconds.
- Motion: set a scene's "motion" to "clip" only where movement matters to the scene (rain
  running down glass, a crowd surging, a door swinging open), with "motion_prompt": one
  sentence of camera and subject motion (e.g. "Slow dolly in, rain streaks the window.");
  "still" where the picture should hold without a move (then leave "camera" out); leave
  "motion" out elsewhere (a camera move). Never "clip" for a scene with "media".
- Characters: for each one give "description", a fixed look reused in every picture (age,
  face, hair, build, clothing), "gender" (female or male: the voice is cast by it; keep the
  parsed script's guess unless the script says otherwise, and leave it out when the script
  does not tell) and "age" (child, young, adult or old) when the script suggests them.
  Leave "voice" and "seed" out.
- Keep "title" {title}, "language" {language} and "source_format" {source_format}.
"""

VERBATIM = """\
- Keep every spoken line verbatim and in the same order: the same words and punctuation.
  Do not drop, add, merge, split or reword a line. You may move lines between scenes only
  if the scene breaks are wrong, and you may name a speaker the parser left to NARRATOR."""

REWRITE = """\
- You may reword lines lightly so that they read well aloud; keep their order and meaning."""


def build_prompt(part: Storyboard, *, index: int = 0, parts: int = 1,
                 cast: list[Character] | None = None, rewrite: bool = False,
                 problem: str | None = None) -> str:
    """The prompt for one part. ``cast``: characters settled by earlier parts, to keep as
    they are. ``problem``: why the previous answer was rejected, to fix this time."""
    fields = Scene.model_json_schema()["properties"]
    text = RULES.format(
        lines_rule=REWRITE if rewrite else VERBATIM,
        moods=", ".join(fields["mood"]["enum"]), ambiences=", ".join(fields["ambience"]["enum"]),
        effects=", ".join(EFFECTS), title=json.dumps(part.title),
        language=json.dumps(part.language), source_format=json.dumps(part.source_format))
    if parts > 1:
        text += (f"\nThis is part {index + 1} of {parts} of a longer script: describe only "
                 "these scenes.\n")
    if cast:
        settled = [c.model_dump(include={"name", "description", "gender", "age"}) for c in cast]
        text += ("\nThese characters were described in earlier parts: copy their entries "
                 f"exactly when they appear.\n{json.dumps(settled, ensure_ascii=False)}\n")
    parsed = part.model_dump(mode="json", exclude_defaults=True,
                             exclude={"metadata": True, "characters": {"__all__": {"seed"}}})
    text += f"\nThe parsed script:\n{json.dumps(parsed, ensure_ascii=False, indent=1)}\n"
    if problem:
        text += (f"\nYour previous answer was rejected: {problem}\nAnswer again with the "
                 "whole storyboard, fixing that.\n")
    return text


def clean_answer(data: dict) -> dict:
    """Drop what the model must not choose: voices (backend ids, chosen by casting), seeds
    (derived from names and scene numbers, so pictures repeat), metadata, and NARRATOR as a
    character (the narrator is the render's --voice, not a cast member)."""
    data = dict(data)
    data.pop("metadata", None)
    data["characters"] = [{k: v for k, v in c.items() if k not in ("voice", "seed")}
                          if isinstance(c, dict) else c for c in data.get("characters") or []
                          if not (isinstance(c, dict) and c.get("name") == NARRATOR)]
    data["scenes"] = [{k: v for k, v in s.items() if k != "seed"} if isinstance(s, dict) else s
                      for s in data.get("scenes") or []]
    return data


def merge_parts(reference: Storyboard, answers: list[Storyboard]) -> Storyboard:
    """One storyboard from the parts' answers: scenes in order, each character once (its
    first entry wins; a gender the answers leave out is the reference's), title, language,
    format and metadata from the reference."""
    cast = {character.name: character for character in settled_cast(answers)}
    for guess in reference.characters:  # the local analyser's gender where the model gave none
        if guess.name in cast and cast[guess.name].gender is None and guess.gender:
            cast[guess.name] = cast[guess.name].model_copy(update={"gender": guess.gender})
    scenes = [scene for answer in answers for scene in answer.scenes]
    spoken = {line.speaker for scene in scenes for line in scene.lines} - {NARRATOR}
    for name in spoken - set(cast):  # validated per part, so this is a bug if it happens
        cast[name] = Character(name=name)
    return Storyboard(title=reference.title, language=reference.language,
                      source_format=reference.source_format, metadata=reference.metadata,
                      characters=list(cast.values()), scenes=scenes)


def settled_cast(answers: list[Storyboard]) -> list[Character]:
    """The characters the answers so far described, each once, first entry winning."""
    cast: dict[str, Character] = {}
    for answer in answers:
        for character in answer.characters:
            cast.setdefault(character.name, character)
    return list(cast.values())
