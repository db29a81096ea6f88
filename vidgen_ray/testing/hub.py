"""A Hugging Face cache and a hub, made from model folders (the tiny models), for tests.

``write_cache`` lays a folder out as huggingface_hub does (blobs named by their hashes,
snapshot links, refs/main). ``LocalHub`` is an HTTP server on 127.0.0.1 that speaks the
few hub endpoints huggingface_hub's ``model_info``, ``snapshot_download`` and
``hf_hub_download`` use, so downloads run for real with ``HF_ENDPOINT`` pointing at it:

    GET  /api/models/<repo>[/revision/<rev>]        the revision's commit and files
    GET  /api/models/<repo>/tree/<rev>              the recursive file listing
    HEAD|GET /<repo>/resolve/<rev>/<path>           a file, with the hub's hash headers
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

LFS_SUFFIXES = (".safetensors", ".bin", ".npy", ".npz", ".pt", ".ckpt", ".onnx")


@dataclass(frozen=True)
class RepoFile:
    path: str
    data: bytes

    @property
    def lfs(self) -> bool:
        return self.path.endswith(LFS_SUFFIXES)

    @property
    def blob_id(self) -> str:  # git's id of the file (what the hub calls blobId / oid)
        return hashlib.sha1(b"blob %d\0" % len(self.data) + self.data).hexdigest()

    @property
    def etag(self) -> str:  # what the cache names the blob after
        return hashlib.sha256(self.data).hexdigest() if self.lfs else self.blob_id


def read_folder(folder: Path) -> list[RepoFile]:
    folder = Path(folder)
    return [RepoFile(p.relative_to(folder).as_posix(), p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()]


def commit_of(files: list[RepoFile]) -> str:
    listing = "\n".join(f"{f.path} {f.etag}" for f in files)
    return hashlib.sha1(listing.encode()).hexdigest()


def write_cache(cache: Path, repo_id: str, files: list[RepoFile],
                commit: str | None = None) -> str:
    """Lay ``files`` out in ``cache`` as revision ``commit`` of ``repo_id`` (refs/main
    points at it); returns the commit."""
    commit = commit or commit_of(files)
    repo = Path(cache) / ("models--" + repo_id.replace("/", "--"))
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    for file in files:
        blob = repo / "blobs" / file.etag
        blob.write_bytes(file.data)
        link = repo / "snapshots" / commit / file.path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    return commit


class LocalHub:
    """Serves repositories {repo_id: files} at one commit each; ``publish`` replaces one.
    ``stated_sizes`` ({path: bytes}) makes the listings state other sizes for those files,
    as a hub listing a model of many gigabytes would (the files served stay small)."""

    def __init__(self, repos: dict[str, list[RepoFile]],
                 stated_sizes: dict[str, int] | None = None):
        self.repos = {r: (commit_of(files), {f.path: f for f in files})
                      for r, files in repos.items()}
        self.stated_sizes = stated_sizes or {}
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def publish(self, repo_id: str, files: list[RepoFile]) -> str:
        self.repos[repo_id] = (commit_of(files), {f.path: f for f in files})
        return self.repos[repo_id][0]

    def __enter__(self) -> LocalHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _find(self, repo_id: str, revision: str):
        if repo_id not in self.repos:
            return None
        commit, files = self.repos[repo_id]
        return (commit, files) if revision in ("main", commit) else None

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: tests read hub.requests instead
                pass

            def do_HEAD(self):
                self._answer(head=True)

            def do_GET(self):
                self._answer(head=False)

            def _answer(self, head: bool):
                path = unquote(urlparse(self.path).path)
                hub.requests.append(f"{self.command} {path}")
                parts = path.strip("/").split("/")
                if parts[:2] == ["api", "models"]:
                    return self._api(parts[2:])
                if len(parts) >= 5 and parts[2] == "resolve":
                    return self._file("/".join(parts[:2]), parts[3], "/".join(parts[4:]), head)
                self._send(404, b"{}", {"X-Error-Code": "EntryNotFound"})

            def _api(self, rest: list[str]):
                repo_id, tail = "/".join(rest[:2]), rest[2:]
                revision = tail[1] if len(tail) >= 2 else "main"
                found = hub._find(repo_id, revision)
                if found is None:
                    return self._send(404, b'{"error": "Repository not found"}',
                                      {"X-Error-Code": "RepoNotFound"})
                commit, files = found
                size = {f.path: hub.stated_sizes.get(f.path, len(f.data))
                        for f in files.values()}
                if tail[:1] == ["tree"]:
                    body = [{"type": "file", "oid": f.blob_id, "size": size[f.path],
                             "path": f.path, **({"lfs": {"oid": f.etag, "size": size[f.path],
                                                         "pointerSize": 134}} if f.lfs else {})}
                            for f in files.values()]
                else:
                    body = {"id": repo_id, "modelId": repo_id, "sha": commit, "private": False,
                            "siblings": [{"rfilename": f.path, "size": size[f.path],
                                          "blobId": f.blob_id,
                                          **({"lfs": {"sha256": f.etag, "size": size[f.path],
                                                      "pointerSize": 134}} if f.lfs else {})}
                                         for f in files.values()]}
                self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

            def _file(self, repo_id: str, revision: str, path: str, head: bool):
                found = hub._find(repo_id, revision)
                file = found[1].get(path) if found else None
                if file is None:
                    return self._send(404, b"", {"X-Error-Code": "EntryNotFound"})
                headers = {"X-Repo-Commit": found[0], "ETag": f'"{file.blob_id}"',
                           "Content-Type": "application/octet-stream"}
                if file.lfs:
                    headers |= {"X-Linked-Etag": f'"{file.etag}"',
                                "X-Linked-Size": str(len(file.data))}
                self._send(200, b"" if head else file.data, headers, len(file.data))

            def _send(self, status: int, body: bytes, headers: dict, length: int | None = None):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        return Handler
