"""Music and ambience beds made for a scene by a text-to-audio model (issue 21).

Not imported by ``import vidgen_ray``: the backends import torch and diffusers when built.
Without a GPU the procedural beds of audio/ stay the default. ``base.py`` is the request,
the contract and the prompts (pure), ``fit.py`` the model's audio to a bed of exactly the
asked length (FFmpeg resampling, crossfaded loops), ``stable_audio.py`` the Stable Audio
Open backend.
"""
