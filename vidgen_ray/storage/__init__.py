"""Where artifacts live, addressed by the content that determines them."""

from vidgen_ray.storage.keys import content_key
from vidgen_ray.storage.local import LocalStore

__all__ = ["LocalStore", "content_key"]
