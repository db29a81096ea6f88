"""Moving shots (issue 21): a scene's picture and a motion prompt in, a short clip out.

Not imported by ``import vidgen_ray``: the backends import torch and diffusers when built.
``base.py`` is the request and contract (pure), ``encode.py`` the frames-to-MP4 step
(FFmpeg), ``ltx.py`` the LTX-Video backend, ``talking.py`` talking shots (a portrait
animated from its line's speech, LTX-2).
"""
