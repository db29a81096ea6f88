"""The render pipeline: a script in, a finished video folder out, free of Ray.

The job flow (``flow``) makes one job's parts in an order that streams; the stages it calls
make and key their own parts: the source (``source``), the timeline's pictures as chunks
(``assembly``), subtitles, the finishing step (mux, check, sidecars, ``manifest``), QC.
"""
