"""One-shot sound effects, each a procedural recipe of FFmpeg sources and filters (pure).

Every recipe is mono at 48 kHz, starts at its own t=0 and lasts a few seconds;
noise-based ones take a seed so repeated cues differ slightly but one seed gives one sound.
"""

from __future__ import annotations

RATE = 48_000


def _hits(times: list[float], body: str, gains: list[float] | None = None) -> str:
    """Sum of ``body`` (written in terms of u, the time since a hit) started at each time."""
    gains = gains or [1.0] * len(times)
    return "+".join(f"{g}*gte(t,{t0})*({body.replace('u', f'(t-{t0})')})"
                    for t0, g in zip(times, gains, strict=True))


def _gate(a: float, b: float) -> str:
    """1 between a and b seconds, with 5 ms ramps (a hard gate clicks)."""
    return f"clip((t-{a})/0.005,0,1)*clip(({b}-t)/0.005,0,1)"


def _eval(expr: str, seconds: float) -> str:
    return f"aevalsrc=exprs='{expr}':d={seconds}:s={RATE}"


def _shaped_noise(color: str, seconds: float, seed: int, filters: str, envelope: str) -> str:
    # volume evaluates per frame: 5 ms frames make the envelope smooth enough for a hit.
    return (f"anoisesrc=d={seconds}:c={color}:a=1:seed={seed},{filters},"
            f"asetnsamples=n=240,volume='{envelope}':eval=frame")


def thunder(seed: int) -> str:
    # A rumble: brown noise low-passed twice, a fast attack, a long decay, rolling echoes.
    return (_shaped_noise("brown", 6, seed, "lowpass=f=250,lowpass=f=250",
                          "3.2*(1-exp(-12*t))*exp(-0.8*t)*(0.75+0.25*sin(2*PI*1.7*t))")
            + ",aecho=0.8:0.6:350|900:0.35|0.2")


def explosion(seed: int) -> str:
    # A burst squashed by compand so it stays loud as it decays, with a short slap echo.
    return (_shaped_noise("brown", 4, seed, "lowpass=f=700",
                          "1.5*(1-exp(-300*t))*exp(-1.6*t)")
            + ",compand=attacks=0.005:decays=0.4:points=-80/-80|-30/-14|0/-4:gain=2"
            + ",aecho=0.8:0.5:60|170:0.4|0.25")


def knock(seed: int) -> str:
    del seed  # knuckles on wood sound alike every time
    body = "exp(-45*u)*(sin(2*PI*190*u)+0.5*sin(2*PI*420*u))"
    return _eval("0.5*(" + _hits([0.0, 0.22, 0.44], body, [1.0, 0.9, 1.0]) + ")", 1.0) + \
        ",highpass=f=80,lowpass=f=2500"


def bell(seed: int) -> str:
    del seed
    # Inharmonic partials of a struck bell (ratios to the nominal), upper ones dying faster.
    base = 523.25
    partials = ((0.5, 0.35, 0.6), (1.0, 0.5, 0.9), (1.183, 0.3, 1.2), (1.506, 0.25, 1.6),
                (2.0, 0.2, 2.0), (2.514, 0.12, 2.6), (3.011, 0.08, 3.2))
    tone = "+".join(f"{a}*exp(-{d}*t)*sin(2*PI*{base * r:.2f}*t)" for r, a, d in partials)
    return _eval(f"0.45*(1-exp(-400*t))*({tone})", 4.0)


def phone(seed: int) -> str:
    del seed
    # Two tones (440 + 480 Hz) trilling at 20 Hz, in a double ring twice.
    rings = "+".join(_gate(a, b) for a, b in ((0, 0.4), (0.6, 1.0), (2.2, 2.6), (2.8, 3.2)))
    return _eval(f"0.25*({rings})*(0.6+0.4*sin(2*PI*20*t))"
                 "*(sin(2*PI*440*t)+sin(2*PI*480*t))", 3.4)


def footsteps(seed: int) -> str:
    # Heel then toe, six steps at walking pace (~115 steps a minute), left a touch softer.
    steps = [round(k * 0.52, 2) for k in range(6)]
    heel = _hits(steps, "exp(-40*u)", [0.8 if k % 2 else 1.0 for k in range(6)])
    toe = _hits([t + 0.07 for t in steps], "exp(-60*u)", [0.45] * 6)
    return _shaped_noise("pink", 3.4, seed, "bandpass=f=350:width_type=h:w=500,lowpass=f=1500",
                         f"3.2*({heel}+{toe})")


def door(seed: int) -> str:
    del seed
    # A creak (a rising tone buzzed at 33 Hz) for a second, then the thud of it closing.
    creak = ("0.2*clip(t/0.05,0,1)*clip((1.1-t)/0.05,0,1)*sin(2*PI*(220*t+60*t*t))"
             "*pow(0.5+0.5*sin(2*PI*33*t),2)")
    thud = "0.55*exp(-18*u)*(sin(2*PI*58*u)+0.6*sin(2*PI*97*u))"
    return _eval(f"{creak}+{_hits([1.2], thud)}", 2.2) + ",lowpass=f=3000"


RECIPES = {"thunder": thunder, "door": door, "footsteps": footsteps, "knock": knock,
           "phone": phone, "explosion": explosion, "bell": bell}


def effect_source(name: str, seed: int) -> str:
    """The FFmpeg chain making effect ``name``, mono at 48 kHz."""
    return RECIPES[name](seed % 10**6)
