"""Pure: the timed-text rules for subtitles, a checker, and the line breaking, splitting and
retiming that meet them.

The rules are those of the English timed-text template the big streaming services publish:
at most 42 characters a line and 2 lines a cue; at most 17 characters a second (13 for
children's content); on screen at least 5/6 s and at most 7 s; at least 2 frames between two
cues; no cue across a scene cut; lines broken at natural points (never after an article or a
preposition when another break fits) and about equal in length.

``check_cues`` reports what a list of cues breaks (any cues: ours, or a file's); ``break_lines``,
``split_text`` and ``retime`` are what subtitles.py uses to make cues that break nothing it
can avoid.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

MAX_CHARS = 42
MAX_LINES = 2
MAX_CPS = 17.0
CHILDREN_CPS = 13.0
MIN_SECONDS = 5 / 6
MAX_SECONDS = 7.0
MIN_GAP_FRAMES = 2
SENTENCE_ENDS = ".!?…"
CLAUSE_ENDS = ",;:—–)\""
# A line (or a cue) should not end on these: they belong with the words that follow.
ARTICLES = frozenset(["a", "an", "the"])
BINDING = ARTICLES | frozenset([
    "my", "your", "his", "her", "its", "our", "their", "this", "that", "these", "those",
    "some", "any", "no", "every", "each", "of", "to", "in", "on", "at", "by", "for", "from",
    "with", "into", "onto", "upon", "over", "under", "about", "after", "before", "between",
    "through", "during", "without", "within", "against", "among", "toward", "towards", "near",
    "off", "per", "via"
])
CONJUNCTIONS = frozenset([
    "and", "but", "or", "nor", "so", "yet", "because", "if", "when", "while", "although",
    "though", "unless", "until", "than", "whether"
])
MAX_MERGE_GAP = 0.5  # cues further apart stay apart: one cue must not span a long silence
MAX_LEAD = 0.5  # a cue may show this long before its words are heard, to be read in time
EPS = 1e-3  # a millisecond: what SRT and WebVTT times round to


@dataclass(frozen=True)
class SubtitleIssue:
    """One rule one cue breaks. ``index`` is the cue's 0-based position in what was checked."""

    index: int
    rule: str  # empty, line_count, line_length, line_break, reading_speed, min_duration,
    # max_duration, gap, overlap, scene_cut
    message: str


@dataclass(frozen=True)
class Rules:
    fps: float = 30.0
    max_cps: float = MAX_CPS
    max_chars: int = MAX_CHARS
    max_lines: int = MAX_LINES
    min_seconds: float = MIN_SECONDS
    max_seconds: float = MAX_SECONDS
    min_gap_frames: int = MIN_GAP_FRAMES

    @property
    def min_gap(self) -> float:
        return self.min_gap_frames / self.fps


def _bare(word: str) -> str:
    return word.lower().strip("\"'“”‘’()[]")


def _cue_parts(cue) -> tuple[float, float, list[str]]:
    """(start, end, shown lines) of a (start, end, text) tuple, a Cue or a Caption."""
    if isinstance(cue, tuple) and len(cue) == 3:
        start, end, text = cue
        return float(start), float(end), str(text).splitlines()
    lines = getattr(cue, "lines", None)
    if lines is None:
        lines = str(cue.text).splitlines()
    return float(cue.start), float(cue.end), list(lines)


def shown_chars(lines: Sequence[str]) -> int:
    """Characters read: every character of every line, spaces and punctuation too."""
    return sum(len(line.strip()) for line in lines)


def check_cues(cues: Iterable, *, fps: float, max_cps: float = MAX_CPS,
               scene_cuts: Iterable[float] = ()) -> list[SubtitleIssue]:
    """Every rule every cue breaks, in cue order. ``cues`` are (start, end, text) tuples with
    lines separated by newlines, or objects with start, end and text or lines; ``scene_cuts``
    are the times (seconds) where one scene's picture gives way to the next."""
    rules = Rules(fps=fps, max_cps=max_cps)
    parts = [_cue_parts(cue) for cue in cues]
    cuts = sorted(scene_cuts)
    issues: list[SubtitleIssue] = []
    for index, (start, end, lines) in enumerate(parts):
        issues += [SubtitleIssue(index, rule, message)
                   for rule, message in _cue_issues(start, end, lines, rules, cuts)]
        if index + 1 < len(parts):
            gap = parts[index + 1][0] - end
            if gap < -EPS:
                issues.append(SubtitleIssue(index, "overlap", f"overlaps the next cue by "
                                            f"{-gap:.3f} s"))
            elif gap < rules.min_gap - EPS:
                issues.append(SubtitleIssue(index, "gap", f"{gap * fps:.1f} frames before the "
                                            f"next cue; at least {rules.min_gap_frames}"))
    return issues


def _cue_issues(start: float, end: float, lines: list[str], rules: Rules,
                cuts: list[float]) -> Iterable[tuple[str, str]]:
    seconds = end - start
    if not any(line.strip() for line in lines):
        yield "empty", "shows no text"
        return
    if len(lines) > rules.max_lines:
        yield "line_count", f"{len(lines)} lines; at most {rules.max_lines}"
    for line in lines:
        if len(line) > rules.max_chars:
            yield "line_length", f"a line of {len(line)} characters; at most {rules.max_chars}"
    for line in lines[:-1]:
        words = line.split()
        if words and _bare(words[-1]) in BINDING and not line.startswith("- "):
            yield "line_break", f"line breaks after {words[-1]!r}, away from its noun"
    cps = shown_chars(lines) / seconds if seconds > 0 else math.inf
    if cps > rules.max_cps + 0.01:
        yield "reading_speed", f"{cps:.1f} characters a second; at most {rules.max_cps:g}"
    if seconds < rules.min_seconds - EPS:
        yield "min_duration", f"on screen {seconds:.3f} s; at least {rules.min_seconds:.3f} s"
    if seconds > rules.max_seconds + EPS:
        yield "max_duration", f"on screen {seconds:.3f} s; at most {rules.max_seconds:g} s"
    for cut in cuts:
        if start < cut - EPS and end > cut + EPS:
            yield "scene_cut", f"runs across the scene cut at {cut:.3f} s"


# Line breaking ---------------------------------------------------------------------------

def _hard_split(word: str, width: int) -> list[str]:
    return [word[i:i + width] for i in range(0, len(word), width)] or [word]


def words_of(text: str, width: int = MAX_CHARS) -> list[str]:
    """The words of ``text``; a word longer than a line is cut into line-long pieces (never
    dropped)."""
    return [piece for word in text.split() for piece in _hard_split(word, width)]


def _break_cost(first: list[str], second: list[str]) -> float:
    last, nxt = _bare(first[-1]), second[0]
    cost = abs(len(" ".join(first)) - len(" ".join(second)))  # balanced lines read easiest
    if last in BINDING:
        cost += 60
    elif last in CONJUNCTIONS:
        cost += 25  # "and" starts the next line, it does not end this one
    elif first[-1][-1] in SENTENCE_ENDS:
        cost -= 30
    elif first[-1][-1] in CLAUSE_ENDS:
        cost -= 20
    if first[-1][-1].isdigit() and nxt[:1].isalpha():
        cost += 15  # keep a number with its unit: "112 steps"
    return cost


def break_lines(text: str, width: int = MAX_CHARS) -> list[str] | None:
    """``text`` as one line, or two broken at the most natural point; None if it does not
    fit in two lines of ``width``."""
    text = " ".join(words_of(text, width))
    if len(text) <= width:
        return [text]
    words = text.split()
    best: tuple[float, list[str]] | None = None
    for cut in range(1, len(words)):
        first, second = words[:cut], words[cut:]
        if len(" ".join(first)) > width or len(" ".join(second)) > width:
            continue
        cost = _break_cost(first, second)
        if best is None or cost < best[0]:
            best = (cost, [" ".join(first), " ".join(second)])
    return best[1] if best else None


def wrap_any(text: str, width: int = MAX_CHARS) -> list[str]:
    """Lines for text that may not fit two: greedy, for the cue the checker will report."""
    lines: list[str] = []
    for word in words_of(text, width):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [text]


# Splitting a spoken line into cues ---------------------------------------------------------

def _piece_cost(words: list[str], is_last: bool, seconds: float, rules: Rules,
                lead: str = "") -> float:
    text = lead + " ".join(words)
    lines = break_lines(text, rules.max_chars)
    if lines is None:
        return math.inf
    cost = 10.0  # each cue costs: fewer, fuller cues read better
    if len(lines) == 2:
        cost += _break_cost(lines[0].split(), lines[1].split()) / 10
    if seconds < rules.min_seconds:
        cost += 80 + 100 * (rules.min_seconds - seconds)  # an orphan fragment
    elif seconds > rules.max_seconds:
        cost += 200 + 100 * (seconds - rules.max_seconds)
    if not is_last:
        last = words[-1]
        if last[-1] in SENTENCE_ENDS:
            pass
        elif last[-1] in CLAUSE_ENDS:
            cost += 4
        elif _bare(last) in BINDING:
            cost += 40
        else:
            cost += 12 + (6 if _bare(last) in CONJUNCTIONS else 0)
    return cost


def split_text(text: str, seconds: float, rules: Rules = Rules(), lead: str = "") -> list[str]:
    """``text``, spoken over ``seconds``, as the pieces that make the best cues: each fits two
    lines, lasts between the shortest and the longest time on screen if it can (cues share
    the time in proportion to their characters), and ends where a sentence or clause ends.
    ``lead`` ("MARA: ") is shown before the first piece, so it takes room there."""
    words = words_of(text, rules.max_chars)
    if not words:
        return [text]
    weight = [len(w) + 1 for w in words]  # a word and the space after it
    total = sum(weight)
    prefix = [0]
    for w in weight:
        prefix.append(prefix[-1] + w)
    limit = 2 * rules.max_chars + 1  # what two lines can hold (the lead comes on top)
    best = [0.0] + [math.inf] * len(words)  # best[j]: cost of the first j words
    back = [0] * (len(words) + 1)
    for j in range(1, len(words) + 1):
        for i in range(j - 1, -1, -1):
            if prefix[j] - prefix[i] - 1 > limit:
                break
            if best[i] == math.inf:
                continue
            share = seconds * (prefix[j] - prefix[i]) / total
            cost = best[i] + _piece_cost(words[i:j], j == len(words), share, rules,
                                         lead if i == 0 else "")
            if cost < best[j]:
                best[j], back[j] = cost, i
    pieces, j = [], len(words)
    while j > 0:
        i = back[j]
        pieces.append(" ".join(words[i:j]))
        j = i
    return pieces[::-1]


# Retiming: merge orphans, lengthen short and fast cues, keep gaps --------------------------

@dataclass
class Timed:
    """A cue being timed: what each speaker says in it, in order, and its scene."""

    start: float
    end: float
    parts: list[tuple[str, str]]  # (speaker, text)
    scene: int = 0
    labels: set[int] = field(default_factory=set)  # parts shown with their speaker's name

    def lines(self, rules: Rules) -> list[str] | None:
        """The cue's lines, or None if they cannot meet the line rules."""
        texts = [(f"{speaker}: " if n in self.labels else "") + text
                 for n, (speaker, text) in enumerate(self.parts)]
        if len(texts) == 1:
            return break_lines(texts[0], rules.max_chars)
        lines = [f"- {t}" for t in texts]  # one line each, a dash for each speaker
        return lines if len(lines) <= rules.max_lines and all(
            len(line) <= rules.max_chars for line in lines) else None

    def shown(self, rules: Rules) -> list[str]:
        return self.lines(rules) or wrap_any(" ".join(t for _, t in self.parts), rules.max_chars)


def _merged(a: Timed, b: Timed, rules: Rules) -> Timed | None:
    """One cue holding a then b, if it meets the rules (a dash cue for two speakers)."""
    if a.scene != b.scene or b.start - a.end > MAX_MERGE_GAP:
        return None
    if len(a.parts) == 1 and len(b.parts) == 1 and a.parts[0][0] == b.parts[0][0]:
        parts = [(a.parts[0][0], f"{a.parts[0][1]} {b.parts[0][1]}")]
        labels = a.labels & {0}
    else:
        parts = a.parts + b.parts
        # A dash cue names every speaker or none.
        labels = set(range(len(parts))) if a.labels or b.labels else set()
    cue = Timed(a.start, b.end, parts, a.scene, labels)
    lines = cue.lines(rules)
    if lines is None or cue.end - cue.start > rules.max_seconds:
        return None
    if shown_chars(lines) / (cue.end - cue.start) > rules.max_cps:
        return None
    return cue


def _needs(cue: Timed, rules: Rules) -> float:
    """The time on screen the cue needs: the shortest allowed, or longer to be read."""
    return max(rules.min_seconds, shown_chars(cue.shown(rules)) / rules.max_cps)


def _merge_pass(cues: list[Timed], rules: Rules) -> list[Timed]:
    merged = True
    while merged:
        merged = False
        for n, cue in enumerate(cues):
            if cue.end - cue.start >= _needs(cue, rules) - EPS:
                continue
            options = [(m, _merged(cues[m], cues[m + 1], rules)) for m in (n - 1, n)
                       if m >= 0 and m + 1 < len(cues)]
            options = [(m, c) for m, c in options if c is not None]
            if options:
                m, joined = min(options, key=lambda o: o[1].end - o[1].start)
                cues[m:m + 2] = [joined]
                merged = True
                break
    return cues


def _region(time: float, cuts: list[float]) -> tuple[float, float]:
    at = bisect.bisect_right(cuts, time + EPS)
    return (cuts[at - 1] if at else 0.0), (cuts[at] if at < len(cuts) else math.inf)


def _lengthen(cues: list[Timed], rules: Rules, cuts: list[float]) -> None:
    """Keep short or fast cues up longer, into the silence after them (then up to MAX_LEAD
    before them), never across a scene cut or into the gap before another cue."""
    for n, cue in enumerate(cues):
        lo, hi = _region(cue.start, cuts)
        need = _needs(cue, rules)
        later = cues[n + 1].start - rules.min_gap if n + 1 < len(cues) else math.inf
        # Counted up to the 2 frames before the next cue: time the gap will take back
        # does not count.
        if min(cue.end, later) - cue.start >= need - EPS:
            continue
        cue.end = min(max(cue.end, min(cue.start + need, hi)), later)
        earlier = cues[n - 1].end + rules.min_gap if n else 0.0
        cue.start = min(cue.start, max(cue.end - need, earlier, lo, cue.start - MAX_LEAD))


def _keep_gaps(cues: list[Timed], rules: Rules) -> None:
    for cue, nxt in zip(cues, cues[1:], strict=False):
        if nxt.start - cue.end < rules.min_gap:
            cue.end = max(cue.start, nxt.start - rules.min_gap)
    for cue in cues:
        cue.end = min(cue.end, cue.start + rules.max_seconds)


def retime(cues: list[Timed], rules: Rules, scene_cuts: Iterable[float] = ()) -> list[Timed]:
    """Cues in time order that meet the timing rules where they can: orphans merged with a
    neighbour of their scene, short and fast cues kept up longer, 2 frames between cues."""
    cuts = sorted(scene_cuts)
    out = _merge_pass([replace(c, parts=list(c.parts), labels=set(c.labels)) for c in cues],
                      rules)
    _lengthen(out, rules, cuts)
    out = _merge_pass(out, rules)
    _keep_gaps(out, rules)
    return out
