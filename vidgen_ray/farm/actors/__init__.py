"""Ray at the edge: resident model workers, the pools that feed them, FFmpeg tasks.

Workers (``image_worker``, ``speech_worker``) are plain classes over plain backends; a
``pool.WorkerPool`` turns them into Ray actors with the options ``placement`` computes.
Import the submodules you need: importing this package imports nothing heavy.
"""
