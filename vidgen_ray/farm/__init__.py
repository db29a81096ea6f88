"""The render farm on Ray: one scheduler of jobs, resident worker pools, FFmpeg tasks.

Policy apart from Ray: ``backpressure`` and ``placement`` are pure and tested without it;
``actors/`` holds everything that is a Ray task or actor.
"""
