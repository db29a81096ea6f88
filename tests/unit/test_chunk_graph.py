"""The chunk graph's shape where it matters for cost: a held still is framed once."""

from __future__ import annotations

from vidgen_ray.pipeline import assembly
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, plan_timeline


def between(graph: str, first: str, last: str) -> str:
    start = graph.index(first)
    return graph[start:graph.index(last, start)]


def test_a_held_still_is_framed_once_and_a_moving_one_every_frame():
    board = Storyboard(scenes=[Scene(lines=[Line(text="x")], motion="still"),
                               Scene(lines=[Line(text="x")], camera="zoom_in")])
    timeline = plan_timeline(board, [[1.0], [1.0]], Pacing(fps=30))
    graph = assembly.chunk_graph(timeline, 0, timeline.total_frames, {0: 0, 1: 1}, (640, 360))
    held = between(graph, ";[s0u0]", "[g0]")
    assert held.index("scale@zs") < held.index("loop=")  # framed, then repeated
    moving = between(graph, ";[s1u1]", "[g2]")
    assert moving.index("loop=") < moving.index("scale@zs")  # repeated, then moved per frame
