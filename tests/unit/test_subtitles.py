from vidgen_ray.subtitles import format_srt, format_vtt
from vidgen_ray.timeline import Cue

CUES = (Cue(0, 0, 0.4, 1.25, "NARRATOR", "Rain lashed the old lighthouse."),
        Cue(1, 0, 3661.5, 3663.001, "MARA", "Thirty years I have kept this light, and not "
                                            "one ship lost to the sea."))


def test_srt():
    text = format_srt(CUES)
    assert text.startswith("1\n00:00:00,400 --> 00:00:01,250\nRain lashed the old lighthouse.\n")
    assert "2\n01:01:01,500 --> 01:01:03,001\n" in text
    # Wrapped at 42 characters.
    assert "Thirty years I have kept this light, and\nnot one ship lost to the sea." in text


def test_vtt():
    text = format_vtt(CUES)
    assert text.startswith("WEBVTT\n\n00:00:00.400 --> 00:00:01.250\n")
    assert text.count(" --> ") == 2
