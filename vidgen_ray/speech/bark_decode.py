"""Bark's two autoregressive stages on a preallocated KV cache, each decoding step replayed
as one CUDA graph on GPUs.

transformers' ``generate`` spends ~10 ms of Python and kernel launches per token on Bark's
24-layer GPTs whatever the batch, and a 5 s line is ~1000 sequential tokens (250 semantic,
750 coarse): speech was latency-bound. Here a prompt is one eager pass that fills a static
cache, and every later token is one fixed-shape call: a single graph launch on CUDA.

Sampling follows transformers' Bark generate step by step (suppressed tokens, minimum new
tokens, end-of-speech then padding, temperature, the coarse stage's alternating codebooks
and 60-token windows), so greedy decoding gives BarkModel.generate's tokens exactly (tested);
the fine stage and the codec are transformers' own. Batches are padded up to a power of two
so a few graphs serve every batch size.
"""

from __future__ import annotations

import math
import threading

import torch
import torch.nn.functional as F

TOP_K = 50  # transformers' default, which its Bark generate samples with
EOS_CHECK_EVERY = 8  # steps between checks that every line has ended (each check syncs)


class StepDecoder:
    """One of Bark's GPTs (``BarkCausalModel``) with a static KV cache for ``batch`` rows.

    ``prefill(embeds)`` runs a prompt from an empty cache and returns its last logits;
    ``step(ids)`` feeds one token per row and returns the next logits (a view that the next
    call overwrites)."""

    def __init__(self, gpt, batch: int, capacity: int, graphs: bool,
                 cache: tuple[torch.Tensor, torch.Tensor] | None = None):
        cfg = gpt.config
        self.gpt, self.batch, self.capacity = gpt, batch, capacity
        self.heads = cfg.num_heads
        self.width = cfg.hidden_size
        weight = gpt.lm_head.weight
        device, dtype = weight.device, weight.dtype
        # Keys and values: the first ``batch`` rows of a shared cache (decoders that never
        # run at once share one) or a cache of their own.
        keys, values = cache or kv_cache(gpt, batch, capacity)
        if keys.shape[1] < batch or keys.shape[3] != capacity:
            raise ValueError(f"a KV cache of {keys.shape[1]} rows x {keys.shape[3]} tokens "
                             f"cannot serve {batch} rows x {capacity}")
        self.keys, self.values = keys[:, :batch], values[:, :batch]
        self.mask = torch.full((1, 1, 1, capacity), -math.inf, device=device, dtype=dtype)
        self.ids = torch.zeros(batch, 1, device=device, dtype=torch.long)
        self.pos = torch.zeros(1, device=device, dtype=torch.long)
        self.logits = torch.zeros(batch, weight.shape[0], device=device, dtype=dtype)
        self.length = 0  # tokens in the cache (kept on the host: no sync to check capacity)
        self.graph = self._capture() if graphs else None

    def prefill(self, embeds: torch.Tensor) -> torch.Tensor:
        """Token embeddings (batch, T, width), positions not yet added."""
        length = embeds.shape[1]
        self._check(length)
        gpt = self.gpt
        positions = torch.arange(length, device=embeds.device)
        x = embeds + gpt.position_embeds_layer(positions)[None]
        self.mask.fill_(-math.inf)
        self.mask[..., :length] = 0
        for i, block in enumerate(gpt.layers):
            q, k, v = self._qkv(block, x)
            self.keys[i, :, :, :length] = k
            self.values[i, :, :, :length] = v
            x = self._finish(block, x, F.scaled_dot_product_attention(q, k, v, is_causal=True))
        self.pos.fill_(length)
        self.length = length
        return gpt.lm_head(gpt.layernorm_final(x[:, -1]))

    def step(self, ids: torch.Tensor) -> torch.Tensor:
        self._check(self.length + 1)
        self.ids.copy_(ids.view(-1, 1))
        if self.graph is not None:
            self.graph.replay()
        else:
            self._step()
        self.pos += 1
        self.length += 1
        return self.logits

    def _step(self) -> None:
        """One token per row at position ``pos``: fixed shapes and no host reads, so it can
        be captured."""
        gpt = self.gpt
        x = gpt.input_embeds_layer(self.ids) + gpt.position_embeds_layer(self.pos)[None]
        self.mask.index_fill_(3, self.pos, 0.0)
        for i, block in enumerate(gpt.layers):
            q, k, v = self._qkv(block, x)
            self.keys[i].index_copy_(2, self.pos, k)
            self.values[i].index_copy_(2, self.pos, v)
            attended = F.scaled_dot_product_attention(q, self.keys[i], self.values[i],
                                                      attn_mask=self.mask)
            x = self._finish(block, x, attended)
        self.logits.copy_(gpt.lm_head(gpt.layernorm_final(x[:, -1])))

    def _qkv(self, block, x):
        batch, length, _ = x.shape
        split = block.attn.att_proj(block.layernorm_1(x)).split(self.width, dim=2)
        return [t.view(batch, length, self.heads, -1).transpose(1, 2) for t in split]

    def _finish(self, block, x, attended):
        batch, _, length, _ = attended.shape
        merged = attended.transpose(1, 2).reshape(batch, length, self.width)
        x = x + block.attn.out_proj(merged)
        return x + block.mlp(block.layernorm_2(x))

    def _capture(self) -> torch.cuda.CUDAGraph:
        # Warm up on a side stream (cuBLAS workspaces, lazy inits), then capture; the
        # warm-up's writes land in a cache that every prefill resets.
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                self._step()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._step()
        return graph

    def _check(self, length: int) -> None:
        if length > self.capacity:
            raise ValueError(f"Bark context of {length} tokens exceeds its {self.capacity}")


def kv_cache(gpt, batch: int, capacity: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Zeroed keys and values for ``gpt``: (layers, batch, heads, capacity, head width)."""
    cfg, weight = gpt.config, gpt.lm_head.weight
    shape = (cfg.num_layers, batch, cfg.num_heads, capacity, cfg.hidden_size // cfg.num_heads)
    return (torch.zeros(shape, device=weight.device, dtype=weight.dtype),
            torch.zeros(shape, device=weight.device, dtype=weight.dtype))


def bucket(batch: int) -> int:
    """The padded batch size: the next power of two."""
    return 1 << max(0, batch - 1).bit_length()


def _pick(logits: torch.Tensor, bias: torch.Tensor, temperature: float | None) -> torch.Tensor:
    """transformers' order: suppress (bias of -inf), then argmax, or temperature, its
    default top-k of 50 (Bark's generation configs leave it unset) and a sample."""
    scores = logits.float() + bias
    if not temperature:
        return scores.argmax(-1)
    scores = scores / temperature
    kth = torch.topk(scores, min(TOP_K, scores.shape[-1])).values[:, -1:]
    scores = scores.masked_fill(scores < kth, -math.inf)
    return torch.multinomial(torch.softmax(scores, dim=-1), 1)[:, 0]


def _bias(size: int, allowed: list[range], device) -> torch.Tensor:
    bias = torch.full((size,), -math.inf, device=device)
    for span in allowed:
        bias[span.start:span.stop] = 0.0
    return bias


class FastBark:
    """``BarkModel.generate`` for one voice, its semantic and coarse stages on
    StepDecoders (made once per padded batch size and kept), fine and codec as is."""

    def __init__(self, model, graphs: bool | None = None, max_batch: int = 16):
        from transformers.models.bark.generation_configuration_bark import (
            BarkCoarseGenerationConfig,
            BarkFineGenerationConfig,
            BarkSemanticGenerationConfig,
        )

        self.model = model
        config = model.generation_config
        self.semantic_config = BarkSemanticGenerationConfig(**config.semantic_config)
        self.coarse_config = BarkCoarseGenerationConfig(**config.coarse_acoustics_config)
        self.fine_config = BarkFineGenerationConfig(**config.fine_acoustics_config)
        self.codebook_size = config.codebook_size
        self.device = model.semantic.lm_head.weight.device
        self.graphs = self.device.type == "cuda" if graphs is None else graphs
        self.max_batch = max_batch
        self._decoders: dict[tuple[str, int], StepDecoder] = {}
        # One KV cache for every decoder whose GPT has its shape: they never run at once
        # (generate holds the lock), so at batch 16 Bark needs 1.5 GB in fp16, not 3 per size.
        self._caches: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}
        self._lock = threading.Lock()

    def generate(self, inputs, temperature: float | None, min_semantic: int = 0,
                 max_semantic: int | None = None) -> list[torch.Tensor]:
        """Waveforms for the processor's ``inputs`` (input_ids, attention_mask and
        history_prompt, on the model's device), each trimmed to its own length."""
        rows = inputs["input_ids"].shape[0]
        if rows > self.max_batch:
            raise ValueError(f"{rows} lines in one call: at most {self.max_batch}")
        with self._lock:
            return self._generate(inputs, rows, temperature, min_semantic, max_semantic)

    def _generate(self, inputs, rows, temperature, min_semantic, max_semantic):
        history = inputs.get("history_prompt")
        semantic = self.semantic(inputs["input_ids"], inputs.get("attention_mask"), history,
                                 temperature, min_semantic, max_semantic)
        coarse, lengths = self.coarse(semantic, history, temperature)
        fine = self.model.fine_acoustics.generate(
            coarse[:rows], history_prompt=history,
            semantic_generation_config=self.semantic_config,
            coarse_generation_config=self.coarse_config,
            fine_generation_config=self.fine_config, codebook_size=self.codebook_size,
            temperature=temperature)
        frames = lengths[:rows] // self.coarse_config.n_coarse_codebooks
        return self.model.codec_decode(fine, frames)

    # ---- semantic: text -> semantic tokens ------------------------------------------------

    def semantic(self, input_ids, attention_mask, history, temperature, min_new: int,
                 max_new: int | None) -> torch.Tensor:
        cfg, gpt = self.semantic_config, self.model.semantic
        rows, size = input_ids.shape[0], bucket(input_ids.shape[0])
        context = cfg.max_input_semantic_length
        ids = input_ids + cfg.text_encoding_offset
        if attention_mask is not None:
            ids = ids.masked_fill(~attention_mask.bool(), cfg.text_pad_token)
        ids = _pad_rows(ids[:, :context], size)
        if history is not None:
            past = history["semantic_prompt"][-context:].to(self.device)
            past = F.pad(past, (0, context - len(past)), value=cfg.semantic_pad_token)
        else:
            past = torch.full((context,), cfg.semantic_pad_token, device=self.device)
        infer = torch.full((size, 1), cfg.semantic_infer_token, device=self.device)
        embed = gpt.input_embeds_layer
        embeds = torch.cat([embed(ids) + embed(past.long())[None], embed(infer)], dim=1)

        decoder = self._decoder("semantic", size)
        steps = min(max_new or cfg.max_new_tokens, decoder.capacity - embeds.shape[1])
        eos = cfg.eos_token_id
        vocab = gpt.lm_head.weight.shape[0]
        speaking = _bias(vocab, [range(0, cfg.semantic_vocab_size)], self.device)
        may_end = _bias(vocab, [range(0, cfg.semantic_vocab_size), range(eos, eos + 1)],
                        self.device)
        finished = torch.arange(size, device=self.device) >= rows  # padding rows: done
        tokens = []
        logits = decoder.prefill(embeds)
        for step in range(steps):
            token = _pick(logits, speaking if step < min_new else may_end, temperature)
            token = token.masked_fill(finished, eos)  # an ended line pads with end-of-speech
            finished |= token == eos
            tokens.append(token)
            if (step + 1) % EOS_CHECK_EVERY == 0 and bool(finished.all()):
                break
            if step + 1 < steps:
                logits = decoder.step(token)
        return torch.stack(tokens, dim=1)

    # ---- coarse: semantic -> two codebooks, in sliding windows ------------------------------

    def coarse(self, semantic, history, temperature) -> tuple[torch.Tensor, torch.Tensor]:
        """Coarse tokens (padded batch, 2 * frames, interleaved) and each row's length."""
        sem, cfg, gpt = self.semantic_config, self.coarse_config, self.model.coarse_acoustics
        size = semantic.shape[0]
        semantic = semantic.masked_fill(semantic == sem.semantic_pad_token,
                                        cfg.coarse_semantic_pad_token)
        ratio = cfg.coarse_rate_hz / sem.semantic_rate_hz * cfg.n_coarse_codebooks
        max_semantic_history = int(math.floor(cfg.max_coarse_history / ratio))
        lengths = (semantic != cfg.coarse_semantic_pad_token).sum(1)
        lengths = torch.floor(lengths * ratio / cfg.n_coarse_codebooks)
        lengths = torch.round(lengths * cfg.n_coarse_codebooks).int()
        total_len = int(lengths.max())
        semantic_history, coarse = gpt.preprocess_histories(
            history_prompt=history, max_coarse_history=cfg.max_coarse_history,
            semantic_to_coarse_ratio=ratio, batch_size=size,
            semantic_generation_config=sem, codebook_size=self.codebook_size)
        base = semantic_history.shape[1]
        semantic = torch.hstack([semantic_history.to(semantic.device), semantic])
        coarse = coarse.to(semantic.device)
        history_len = coarse.shape[1]
        vocab = gpt.lm_head.weight.shape[0]
        first = sem.semantic_vocab_size
        books = [_bias(vocab, [range(first, first + self.codebook_size)], self.device),
                 _bias(vocab, [range(first + self.codebook_size, vocab)], self.device)]
        decoder = self._decoder("coarse", size)
        infer = torch.full((size, 1), cfg.coarse_infer_token, device=semantic.device)
        done = 0
        while done < total_len:
            at = base + int(round(done / ratio))
            window = semantic[:, max(0, at - max_semantic_history):]
            window = window[:, :cfg.max_coarse_input_length]
            window = F.pad(window, (0, cfg.max_coarse_input_length - window.shape[1]),
                           value=cfg.coarse_semantic_pad_token)
            prompt = torch.hstack([window, infer, coarse[:, -cfg.max_coarse_history:]])
            count = min(cfg.sliding_window_len, total_len - done)
            logits = decoder.prefill(gpt.input_embeds_layer(prompt))
            new = []
            for step in range(count):
                token = _pick(logits, books[step % 2], temperature)
                new.append(token)
                if step + 1 < count:
                    logits = decoder.step(token)
            coarse = torch.hstack([coarse, torch.stack(new, dim=1).to(coarse.dtype)])
            done = coarse.shape[1] - history_len
        return coarse[:, history_len:], lengths

    def _decoder(self, stage: str, size: int) -> StepDecoder:
        key = (stage, size)
        if key not in self._decoders:
            gpt = self.model.semantic if stage == "semantic" else self.model.coarse_acoustics
            capacity = gpt.config.block_size
            cfg = gpt.config
            shape = (cfg.num_layers, cfg.num_heads, cfg.hidden_size, capacity)
            if shape not in self._caches:
                self._caches[shape] = kv_cache(gpt, bucket(self.max_batch), capacity)
            self._decoders[key] = StepDecoder(gpt, size, capacity, self.graphs,
                                              self._caches[shape])
        return self._decoders[key]


def _pad_rows(tensor: torch.Tensor, size: int) -> torch.Tensor:
    """``size`` rows: the last row repeated (its output is dropped)."""
    extra = size - tensor.shape[0]
    return torch.cat([tensor, tensor[-1:].expand(extra, *tensor.shape[1:])]) if extra else tensor
