"""Settings: typed, bounded, documented, and read from the environment in one place.

Every render setting can be set by the CLI flag of the same name or by ``VIDGEN_<NAME>``;
the Ray address also by Ray's own ``RAY_ADDRESS``. RenderSettings is made of sections, one
module each (video, sound, speech, image, motion, beds, analysis, farm); the model backends
declare their own options in config/backends/. Each field says who owns it (scope.py): the
job, the farm, or the server. FarmSettings, ServiceSettings and ClientSettings configure the
farm, the job service and its client.
"""

from vidgen_ray.config.environment import (
    hf_endpoint,
    hf_hub_cache,
    llm_api_key,
    ray_address_from_env,
    ray_runtime_env,
    user_cache_dir,
    user_data_dir,
)
from vidgen_ray.config.farm import FarmSettings
from vidgen_ray.config.render import (
    BACKEND_SETTINGS,
    SECTIONS,
    RenderSettings,
    backend_options,
    load_fields,
    load_settings,
)
from vidgen_ray.config.scope import FARM, SERVER, Scope, fields_of, scope_of, unrecorded_fields
from vidgen_ray.config.service import ClientSettings, ServiceSettings
from vidgen_ray.config.sound import LOUDNESS_PRESETS
from vidgen_ray.config.video import (
    MAX_SIDE,
    PREVIEW,
    READING_SPEEDS,
    Aspect,
    Camera,
    Resolution,
    SubtitlePosition,
    Transition,
    rendition_size,
)

__all__ = [
    "BACKEND_SETTINGS", "FARM", "LOUDNESS_PRESETS", "MAX_SIDE", "PREVIEW", "READING_SPEEDS",
    "SECTIONS", "SERVER", "Aspect", "Camera", "ClientSettings", "FarmSettings", "RenderSettings",
    "Resolution", "Scope", "ServiceSettings", "SubtitlePosition", "Transition", "backend_options",
    "fields_of", "hf_endpoint", "hf_hub_cache", "llm_api_key", "load_fields", "load_settings",
    "ray_address_from_env", "ray_runtime_env", "rendition_size", "scope_of", "unrecorded_fields",
    "user_cache_dir", "user_data_dir",
]
