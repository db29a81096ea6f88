"""Music beds per mood: a chord progression played as a slow pad, in a key and at a tempo,
with a soft pulse on the beat for the moods that move (pure: builds aevalsrc expressions).

The seed picks among variations (transposition, progression and where it starts, voicing,
tempo within the mood's range), so two videos do not sound the same while one seed always
gives the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidgen_ray.storyboard import stable_seed

# Pads and bass have nothing above ~2 kHz: made at 12 kHz (4x cheaper), resampled to 48 kHz.
MUSIC_RATE = 12_000
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)  # its augmented III and diminished ii sound uncertain


@dataclass(frozen=True)
class MoodMusic:
    root: int  # MIDI note of the key's tonic in the pad's register
    scale: tuple[int, ...]
    tempo: tuple[int, int]  # beats per minute, inclusive range
    progressions: tuple[tuple[int, ...], ...]  # scale degrees (0 = tonic), one chord a bar
    level: float  # amplitude of one pad voice
    pulse: float = 0.0  # amplitude of the bass note on each beat; 0: none


MOODS: dict[str, MoodMusic] = {
    "neutral": MoodMusic(48, MAJOR, (56, 64), ((0, 3, 0, 3), (0, 0, 3, 3)), 0.008),
    "calm": MoodMusic(53, MAJOR, (60, 72), ((0, 5, 3, 4), (0, 3, 0, 4), (0, 2, 3, 0)), 0.015),
    "joyful": MoodMusic(50, MAJOR, (100, 120), ((0, 4, 5, 3), (0, 3, 4, 0), (0, 5, 3, 4)),
                        0.015, pulse=0.07),
    "sad": MoodMusic(45, MINOR, (56, 66), ((0, 5, 2, 6), (0, 3, 5, 4), (0, 6, 5, 4)), 0.015),
    "tense": MoodMusic(40, HARMONIC_MINOR, (84, 100), ((0, 1, 0, 1), (0, 5, 1, 4), (0, 0, 1, 4)),
                       0.012, pulse=0.10),
    "mysterious": MoodMusic(47, HARMONIC_MINOR, (60, 76), ((0, 2, 0, 5), (0, 5, 2, 4)), 0.013),
    "epic": MoodMusic(38, MINOR, (70, 90), ((0, 5, 2, 6), (0, 6, 5, 6), (0, 3, 6, 5)), 0.018,
                      pulse=0.15),
}


@dataclass(frozen=True)
class Arrangement:
    """What the seed chose for one mood: chords as MIDI notes, one per bar, and the beat."""

    chords: tuple[tuple[int, ...], ...]
    bass: tuple[int, ...]  # the pulse's note for each chord
    bpm: int
    level: float
    pulse: float

    @property
    def bar(self) -> float:
        return 4 * 60 / self.bpm


def arrange(mood: str, seed: int) -> Arrangement:
    """The seed's variation of a mood's music (pure, deterministic)."""
    music = MOODS[mood]
    pick = stable_seed("music", mood, str(seed))
    transpose = pick % 7 - 3  # -3..+3 semitones
    progression = music.progressions[(pick >> 4) % len(music.progressions)]
    turn = (pick >> 8) % len(progression)  # start the progression at another bar
    progression = progression[turn:] + progression[:turn]
    inversion = (pick >> 12) % 3
    low, high = music.tempo
    bpm = low + (pick >> 16) % (high - low + 1)
    root = music.root + transpose
    chords, bass = [], []
    for degree in progression:
        notes = [root + _step(music.scale, degree + k) for k in (0, 2, 4)]
        notes = sorted(notes[inversion:] + [n + 12 for n in notes[:inversion]])
        chords.append(tuple(notes))
        bass.append(root + _step(music.scale, degree) - 12)
    return Arrangement(tuple(chords), tuple(bass), bpm, music.level, music.pulse)


def _step(scale: tuple[int, ...], degree: int) -> int:
    octave, index = divmod(degree, len(scale))
    return 12 * octave + scale[index]


def hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _per_chord(values: list[float]) -> str:
    """An expression worth values[k] while chord k plays (its index is in ld(0))."""
    expr = f"{values[-1]:.3f}"
    for k in range(len(values) - 2, -1, -1):
        expr = f"if(eq(ld(0),{k}),{values[k]:.3f},{expr})"
    return expr


def music_expression(arrangement: Arrangement) -> str:
    """An aevalsrc expression of one pass through the progression (pad and pulse), which
    loops seamlessly: every chord and beat starts and ends at zero."""
    bar, beat = arrangement.bar, arrangement.bar / 4
    ramp = min(0.8, bar / 3)  # slow attack and release; zero at every chord change: no click
    # ld(0): the chord playing; ld(1): the pad's envelope within its bar.
    setup = (f"st(0,mod(floor(t/{bar:.4f}),{len(arrangement.chords)}));"
             f"st(1,clip(mod(t,{bar:.4f})/{ramp:.3f},0,1)"
             f"*clip(({bar:.4f}-mod(t,{bar:.4f}))/{ramp:.3f},0,1));")
    voices = []
    for v in range(len(arrangement.chords[0])):
        f = _per_chord([hz(chord[v]) for chord in arrangement.chords])
        # A slightly detuned twin makes two sines sound like a pad.
        voices.append(f"sin(2*PI*{f}*t)+0.7*sin(2*PI*{f}*1.004*t)")
    expr = f"{arrangement.level}*ld(1)*({'+'.join(voices)})"
    if arrangement.pulse:
        fb = _per_chord([hz(n) for n in arrangement.bass])
        q = f"mod(t,{beat:.4f})"
        expr += f"+{arrangement.pulse}*(1-exp(-80*{q}))*exp(-6*{q})*sin(2*PI*{fb}*t)"
    return setup + expr


def music_source(mood: str, seed: int) -> tuple[str, int]:
    """An FFmpeg source of one pass of the mood's music, mono at MUSIC_RATE, and its length
    in samples (loop it with aloop for longer scenes)."""
    arrangement = arrange(mood, seed)
    samples = round(len(arrangement.chords) * arrangement.bar * MUSIC_RATE)
    expr = music_expression(arrangement)
    return f"aevalsrc=exprs='{expr}':n=1024:s={MUSIC_RATE}:d={samples / MUSIC_RATE:.6f}", samples
