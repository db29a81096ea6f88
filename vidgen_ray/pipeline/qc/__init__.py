"""Delivery QC: loudness, black and frozen picture, silence inside speech, stream durations,
codec and colour tags and subtitle rules, measured with FFmpeg and judged against platform
targets. parse.py and report.py are pure; measure.py runs ffprobe and ffmpeg."""
