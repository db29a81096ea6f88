"""Who may set what: the exact list of settings a non-admin key may send per job, and the
operator's settings refused for it (422 naming the field) and accepted from an admin key,
through the real service."""

from __future__ import annotations

import pytest

from vidgen_ray.config import RenderSettings, load_fields
from vidgen_ray.errors import SettingsError
from vidgen_ray.service.requests import (
    OPERATOR_ONLY,
    SERVER_ONLY,
    AnalyzeRequest,
    Caller,
    JobRequest,
    Limits,
    analyze,
    prepare,
    tenant_settings,
)
from vidgen_ray.testing.http import request
from vidgen_ray.testing.service import job_service

ALICE, OPS = "alice-key-0123456789", "ops-key-0123456789abc"
SCRIPT = "# Harbour\n\nThe boats come home."
TENANT = Caller("alice")
ADMIN = Caller("ops", admin=True)

# Pinned on purpose: a new RenderSettings field is the operator's until someone decides here
# (and in README "What a key may ask for") that a tenant may set it. In RenderSettings' order:
# its sections, video, sound, speech, image, motion, beds, analysis.
TENANT_SETTINGS = (
    "resolution", "aspect", "fps", "preview", "crossfade", "transition", "burn_subtitles",
    "subtitle_font", "subtitle_size", "subtitle_outline", "subtitle_position", "subtitle_box",
    "subtitle_max_cps", "subtitle_speakers", "timeline_formats", "qc_strict", "renditions",
    "chunk_seconds", "crf", "x264_preset", "encoder", "seed", "loudness", "stems",
    "stems_bit_depth",
    "music", "music_volume", "ambience_volume", "tts_model", "tts_voice", "tts_speed", "voices",
    "image_model", "rendition_pictures", "card_text", "video_model", "max_clips_per_scene",
    "clip_crossfade", "shots", "music_model", "ambience_model", "tts_temperature",
    "image_resolution", "image_guidance_scale", "image_inference_steps", "image_preset",
    "image_negative_prompt", "image_style", "refiner_start", "ip_adapter_scale", "llm",
    "llm_model", "llm_temperature", "llm_max_tokens", "llm_rewrite",
)
# A value of each operator-only setting that is valid in itself (so only the key decides).
OPERATOR_VALUES = {
    "sdxl_model": "attacker/model-1", "bark_model": "suno/bark-small",
    "kokoro_model": "attacker/kokoro",
    "sdxl_refiner": "attacker/refiner", "ip_adapter": "h94/IP-Adapter", "upscaler": "lanczos",
    "safety_checker_model": "attacker/checker", "image_safety_checker": False,
    "offline": True, "compile": False, "cpu_offload": False, "half_precision": False,
    "image_half_dtype": "bf16", "attention": "eager", "bark_decoding": "transformers",
    "image_scheduler": "euler",
    "ltx_clip_side": 512, "ltx_frames": 257, "ltx_steps": 200, "ltx_guidance_scale": 5.0,
    "ltx_fps": 25, "ltx_decode_timestep": 0.1, "ltx_decode_noise_scale": 0.1,
    "ltx_negative_prompt": "",
    "ltx2_clip_side": 512, "ltx2_fps": 25, "ltx2_sigmas": (1.0, 0.5), "ltx2_image_crf": 18,
    "ltx2_max_seconds": 10.0,
    "stable_audio_steps": 200, "stable_audio_guidance_scale": 3.0,
    "stable_audio_negative_prompt": "",
    "subtitle_fonts_dir": "/usr/share/fonts/truetype/dejavu",
}


def test_a_tenant_may_set_exactly_these_settings():
    assert tenant_settings() == TENANT_SETTINGS
    every = set(RenderSettings.model_fields)
    assert set(TENANT_SETTINGS) | set(OPERATOR_ONLY) | set(SERVER_ONLY) == every
    assert not set(TENANT_SETTINGS) & (set(OPERATOR_ONLY) | set(SERVER_ONLY))
    assert set(OPERATOR_VALUES) == set(OPERATOR_ONLY)


def test_no_setting_a_worker_loads_is_a_tenants():
    """Each value of a load field is a pool of resident workers (config.load_fields)."""
    for backend in ("sdxl", "bark", "kokoro", "ltx", "stable_audio"):
        assert not set(load_fields(backend)) & set(TENANT_SETTINGS), backend


@pytest.mark.parametrize("name", OPERATOR_ONLY)
def test_operator_settings_are_refused_for_a_tenant_and_taken_from_an_admin(name):
    request = JobRequest(script=SCRIPT, settings={name: OPERATOR_VALUES[name]})
    for caller in (TENANT, None):  # no caller: the rules of a non-admin key
        with pytest.raises(SettingsError) as info:
            prepare(request, Limits(), caller=caller)
        assert info.value.field == f"settings.{name}" and "operator" in info.value.message
    with pytest.raises(SettingsError):
        analyze(AnalyzeRequest(script=SCRIPT, settings={name: OPERATOR_VALUES[name]}),
                Limits(), caller=TENANT)
    assert prepare(request, Limits(), caller=ADMIN).sent == {name: OPERATOR_VALUES[name]}


def test_a_voice_prompt_file_is_the_operators():
    for settings, field in (({"tts_model": "bark", "tts_voice": "/etc/passwd.npz"},
                             "settings.tts_voice"),
                            ({"tts_model": "bark", "voices": {"ANNA": "../x.npz"}},
                             "settings.voices.ANNA"),
                            # the old name of voices is still read, and checked as well
                            ({"tts_model": "bark", "cast": {"ANNA": "../x.npz"}},
                             "settings.voices.ANNA")):
        with pytest.raises(SettingsError) as info:
            prepare(JobRequest(script=SCRIPT, settings=settings), Limits(), caller=TENANT)
        assert info.value.field == field
    board = {"scenes": [{"lines": [{"text": "Hi.", "speaker": "ANNA"}]}],
             "characters": [{"name": "ANNA", "voice": "/srv/voices/anna.npz"}]}
    with pytest.raises(SettingsError) as info:
        prepare(JobRequest(storyboard=board, settings={"tts_model": "bark"}), Limits(),
                caller=TENANT)
    assert info.value.field == "storyboard.characters.0.voice"


# ---- through the running service -------------------------------------------------------------

@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("scope") / "home"
    env = dict(VIDGEN_API_KEYS=f"alice:{ALICE},ops:{OPS}:admin", VIDGEN_STORAGE=str(home),
               VIDGEN_MAX_RUNNING_JOBS="1", VIDGEN_MAX_QUEUED_JOBS="50")
    with job_service(env) as address:
        yield address


def call(address, method, path, body=None, key=ALICE):
    status, _, content = request(address, method, path, body, key=key)
    return status, content



@pytest.mark.ray
@pytest.mark.ffmpeg
def test_the_service_refuses_operator_settings_from_a_tenant_and_takes_them_from_an_admin(
        service):
    for name, value in OPERATOR_VALUES.items():
        for path in ("/v1/jobs", "/v1/analyze"):
            status, body = call(service, "POST", path,
                                {"script": SCRIPT, "settings": {name: value}})
            assert status == 422, (name, path, body)
            assert body["error"]["field"] == f"settings.{name}", body
            assert "operator" in body["error"]["message"]
    _, page = call(service, "GET", "/v1/jobs", key=OPS)
    assert page["total"] == 0  # nothing refused was queued
    admin = {"offline": True, "compile": False, "attention": "eager",
             "subtitle_fonts_dir": "/usr/share/fonts/truetype/dejavu", "fps": 12}
    status, job = call(service, "POST", "/v1/jobs", {"script": SCRIPT, "settings": admin},
                       key=OPS)
    assert status == 202 and job["owner"] == "ops", job
    status, _ = call(service, "POST", "/v1/analyze", {"script": SCRIPT, "settings": admin},
                     key=OPS)
    assert status == 200
    status, job = call(service, "DELETE", f"/v1/jobs/{job['id']}", key=OPS)
    assert status == 200
