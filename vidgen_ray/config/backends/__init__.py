"""The options each model backend declares: one module per backend, as in images/ and
speech/. They live under config (not in the backend packages) because RenderSettings, which
every wing reads, is made of them and sits below the backends (pyproject.toml's layers).

``BACKEND``: the backend's name (``settings.image_model`` or ``settings.tts_model``);
``POOL_FIELDS``: further settings its workers are built with. Jobs share a pool of workers
only when they agree on all of these (config.backend_options).
"""
