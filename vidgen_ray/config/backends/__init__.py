"""The options each model backend declares: one module per backend, as in images/ and
speech/. They live under config (not in the backend packages) because RenderSettings, which
every wing reads, is made of them and sits below the backends (pyproject.toml's layers).

``BACKEND``: the backend's name (``settings.image_model`` or ``settings.tts_model``);
``LOAD_FIELDS``: the settings that decide what its workers LOAD (weights, precision,
adapters, how they run). A pool of resident workers is keyed by these alone
(config.backend_options): jobs that agree on them share the pool, whatever else they ask.
Every other option (drawing size, steps, style, temperature...) travels with each request.
"""
