"""PyTorch eager reference of the decoder classifiers (Gemma-2, Llama, Qwen2): the peer of the Java model.

An independent re-statement of transformers' `Gemma2ForSequenceClassification`, `LlamaForSequenceClassification`
and `Qwen2ForSequenceClassification` with eager attention, from config.json + safetensors alone (transformers is not
needed): right-padded batches with an additive causal + padding (+ sliding-window) mask, repeat_kv, fp32 softmax,
RoPE with the default / linear / llama3 frequencies, and LoRA as PEFT computes it (x W^T + b + s (x A^T) B^T).
A developer and benchmark tool only: the product never depends on Python.

    python decoder_peer.py check-fixture DIR     # against transformers' own reference values in DIR
    python decoder_peer.py make-fixture DIR      # for a checkpoint Java wrote: adapter, cases, expected values
    python decoder_peer.py bench DIR --threads 2 # the forward benchmark peer of `bench-model --dir DIR`
    python decoder_peer.py train-bench DIR --length 1024 [--checkpointing]   # run by `bench-train-step --peer`
    python decoder_peer.py bench DIR --quantize int8  # the peer of `bench-model --dir DIR --quantize int8`
    python decoder_peer.py check-export BUNDLE   # arena-kit's exported logits (parity.java --export) vs this peer

`make-fixture` writes what ../shared/fixtures/*-tiny hold (adapter/, expected.json, expected_train_step.json,
adapter/expected_grads.safetensors), so `jbang-scripts/parity.java DIR` then checks Java against this peer.
"""
import argparse
import json
import math
import statistics
import struct
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torch.utils.checkpoint

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


# ----------------------------------------------------------------------------------------------- files

def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        raw = data[a:b]
        if e["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif e["dtype"] == "F16":
            arr = np.frombuffer(raw, dtype=np.float16).astype(np.float32)
        elif e["dtype"] == "F32":
            arr = np.frombuffer(raw, dtype=np.float32)
        else:
            raise SystemExit(f"{path}: dtype {e['dtype']} of {name} not handled")
        out[name] = torch.from_numpy(arr.reshape(e["shape"]).copy())
    return out


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_model(model_dir):
    cfg = json.loads((model_dir / "config.json").read_text())
    weights = {}
    for f in sorted(model_dir.glob("model*.safetensors")):
        weights.update(read_safetensors(f))
    return cfg, weights


def load_adapter(adapter_dir):
    acfg = json.loads((adapter_dir / "adapter_config.json").read_text())
    raw = read_safetensors(adapter_dir / "adapter_model.safetensors")
    prefix = "base_model.model."
    lora = {}
    for k, v in raw.items():
        if ".lora_A." in k or ".lora_B." in k:
            module = k[len(prefix):].rsplit(".lora_", 1)[0]
            lora.setdefault(module, {})["A" if ".lora_A." in k else "B"] = v
    scale = acfg["lora_alpha"] / (math.sqrt(acfg["r"]) if acfg.get("use_rslora") else acfg["r"])
    head = {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix + "score.")}
    return lora, scale, head


# ----------------------------------------------------------------------------------------------- the model

class Decoder:
    """One family's classifier forward, chosen by config.json's model_type."""

    def __init__(self, cfg, w, lora=None, scale=0.0, int8=False):
        self.c, self.w, self.lora, self.scale = cfg, w, lora or {}, scale
        # int8 weight-only: every 2-D decoder-layer weight as int8 codes and a float32 scale per output row
        # (symmetric absmax, round half to even), dequantized at each use
        self.q = {}
        if int8:
            for name in [n for n, t in w.items() if n.startswith("model.layers.") and t.dim() == 2]:
                t = w.pop(name).float()
                s = t.abs().amax(1, keepdim=True) / 127
                self.q[name] = (torch.round(t / s.clamp_min(torch.finfo(torch.float32).tiny)).to(torch.int8), s)
        self.kind = cfg["model_type"]
        if self.kind not in ("gemma2", "llama", "qwen2"):
            raise SystemExit(f"model_type {self.kind} is not a family of this peer")
        c = cfg
        self.nh = c["num_attention_heads"]
        self.nkv = c.get("num_key_value_heads") or self.nh
        self.d = c.get("head_dim") or c["hidden_size"] // self.nh
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.inv_freq = self.rope_frequencies()
        if self.kind == "gemma2":
            self.score_scale = c.get("query_pre_attn_scalar", 256) ** -0.5
            self.cap = c.get("attn_logit_softcapping", 50.0)
            window = c.get("sliding_window", 4096)
            types = c.get("layer_types") or ["sliding_attention" if i % 2 == 0 else "full_attention"
                                             for i in range(c["num_hidden_layers"])]
        else:
            self.score_scale = self.d ** -0.5
            self.cap = None
            window = c.get("sliding_window") if c.get("use_sliding_window") else None
            first = c.get("max_window_layers", 28)
            types = c.get("layer_types") or ["sliding_attention" if window is not None and i >= first
                                             else "full_attention" for i in range(c["num_hidden_layers"])]
        self.windows = [window if t == "sliding_attention" else None for t in types]

    def rope_frequencies(self):
        c = self.c
        params = c.get("rope_parameters") or {}
        if params and not any(k in params for k in ("rope_type", "type", "rope_theta")):
            params = next(iter(params.values()))  # per layer type, all the same
        scaling = c.get("rope_scaling") or params or {}
        theta = params.get("rope_theta", c.get("rope_theta", 10000.0))
        kind = scaling.get("rope_type", scaling.get("type", "default"))
        inv = 1.0 / (theta ** (torch.arange(0, self.d, 2, dtype=torch.int64).float() / self.d))
        if kind == "linear":
            inv = inv / scaling["factor"]
        elif kind == "llama3":
            factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
            old = scaling["original_max_position_embeddings"]
            wavelen = 2 * math.pi / inv
            scaled = torch.where(wavelen > old / low, inv / factor, inv)
            smooth = (old / wavelen - low) / (high - low)
            blended = (1 - smooth) * scaled / factor + smooth * scaled
            medium = (wavelen >= old / high) & (wavelen <= old / low)
            inv = torch.where(medium, blended, scaled)
        elif kind != "default":
            raise SystemExit(f"rope type {kind} is not handled by this peer")
        return inv

    def linear(self, x, module):
        q = self.q.get(module + ".weight")
        weight = self.w[module + ".weight"] if q is None else q[0].to(x.dtype) * q[1].to(x.dtype)
        y = F.linear(x, weight, self.w.get(module + ".bias"))
        ab = self.lora.get(module)
        if ab is not None:
            y = y + F.linear(F.linear(x, ab["A"]), ab["B"]) * self.scale
        return y

    def norm(self, x, name):
        w = self.w[name + ".weight"]
        xf = x.float()
        out = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return out * (1.0 + w.float()) if self.kind == "gemma2" else w * out

    @staticmethod
    def rotate_half(x):
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
        return torch.cat((-x2, x1), dim=-1)

    def hidden(self, ids, lengths, checkpoint=False):
        """Final-normed hidden states [b, t, h] of right-padded ids [b, t]; with `checkpoint` each layer is
        recomputed in the backward pass (torch.utils.checkpoint)."""
        c, w = self.c, self.w
        b, t = ids.shape
        x = F.embedding(ids, w["model.embed_tokens.weight"])
        if self.kind == "gemma2":
            x = x * torch.tensor(c["hidden_size"] ** 0.5, dtype=x.dtype)
        freqs = torch.arange(t).float()[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        keep = torch.arange(t)[None, :] < lengths[:, None]
        qi, ki = torch.arange(t)[:, None], torch.arange(t)[None, :]
        masks = {}
        for window in set(self.windows):
            allowed = (ki <= qi)[None] & keep[:, None, :]
            if window is not None:
                allowed = allowed & (ki > qi - window)[None]
            masks[window] = torch.where(allowed, 0.0, torch.finfo(torch.float32).min)[:, None]
        for i in range(c["num_hidden_layers"]):
            if checkpoint:
                x = torch.utils.checkpoint.checkpoint(self.layer, i, x, cos, sin, masks[self.windows[i]],
                                                      use_reentrant=False)
            else:
                x = self.layer(i, x, cos, sin, masks[self.windows[i]])
        return self.norm(x, "model.norm")

    def layer(self, i, x, cos, sin, mask):
        """Decoder layer i on x [b, t, h]."""
        b, t, _ = x.shape
        nh, nkv, d = self.nh, self.nkv, self.d
        p = f"model.layers.{i}."
        residual = x
        h = self.norm(x, p + "input_layernorm")
        q = self.linear(h, p + "self_attn.q_proj").view(b, t, nh, d).transpose(1, 2)
        k = self.linear(h, p + "self_attn.k_proj").view(b, t, nkv, d).transpose(1, 2)
        v = self.linear(h, p + "self_attn.v_proj").view(b, t, nkv, d).transpose(1, 2)
        q = q * cos + self.rotate_half(q) * sin
        k = k * cos + self.rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        s = torch.matmul(q, k.transpose(2, 3)) * self.score_scale
        if self.cap:
            s = torch.tanh(s / self.cap) * self.cap
        s = s + mask
        a = torch.matmul(F.softmax(s, dim=-1, dtype=torch.float32), v)
        a = self.linear(a.transpose(1, 2).reshape(b, t, nh * d), p + "self_attn.o_proj")
        if self.kind == "gemma2":
            x = residual + self.norm(a, p + "post_attention_layernorm")
            residual = x
            h = self.norm(x, p + "pre_feedforward_layernorm")
            m = F.gelu(self.linear(h, p + "mlp.gate_proj"), approximate="tanh") * self.linear(h, p + "mlp.up_proj")
            return residual + self.norm(self.linear(m, p + "mlp.down_proj"), p + "post_feedforward_layernorm")
        x = residual + a
        residual = x
        h = self.norm(x, p + "post_attention_layernorm")
        m = F.silu(self.linear(h, p + "mlp.gate_proj")) * self.linear(h, p + "mlp.up_proj")
        return residual + self.linear(m, p + "mlp.down_proj")

    def logits(self, ids, lengths, head=None, checkpoint=False):
        h = self.hidden(ids, lengths, checkpoint)
        last = h[torch.arange(ids.shape[0]), lengths - 1]
        return F.linear(last, (head or self.w)["score.weight"]), h


def padded(seqs):
    longest = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), longest), dtype=torch.long)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = torch.tensor(s)
    return ids, torch.tensor([len(s) for s in seqs])


def cases_of(path):
    return json.loads(path.read_text())["cases"]


# ----------------------------------------------------------------------------------------------- modes

def one_step(cfg, w, lora, scale, head, seqs, labels):
    """Loss and gradients of one LoRA step (no dropout): mean CE, gradients of every A, B and score.weight."""
    params = {}
    for module, ab in lora.items():
        for which in ("A", "B"):
            ab[which] = ab[which].clone().requires_grad_(True)
            params[f"base_model.model.{module}.lora_{which}.weight"] = ab[which]
    score = {"score.weight": head.get("score.weight", w["score.weight"]).clone().requires_grad_(True)}
    params["score.weight"] = score["score.weight"]
    ids, lengths = padded(seqs)
    logits, _ = Decoder(cfg, w, lora, scale).logits(ids, lengths, score)
    loss = F.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    return float(loss.detach()), {k: v.grad for k, v in params.items()}


def check_fixture(d):
    cfg, w = load_model(d)
    cases = cases_of(d / "expected.json")
    lora, scale, head = load_adapter(d / "adapter") if (d / "adapter").exists() else ({}, 0, {})
    worst = {"base": 0.0, "adapter": 0.0}
    with torch.no_grad():
        for kind, model in (("base", Decoder(cfg, w)), ("adapter", Decoder(cfg, w, lora, scale))):
            if kind == "adapter" and not lora:
                continue
            for c in cases:
                want = torch.tensor(c["logits" if kind == "base" else "logits_with_adapter"])
                got, _ = model.logits(*padded([c["input_ids"]]), head if kind == "adapter" else None)
                worst[kind] = max(worst[kind], float((got[0] - want).abs().max()))
            ids, lengths = padded([c["input_ids"] for c in cases])
            got, h = model.logits(ids, lengths, head if kind == "adapter" else None)
            for i, c in enumerate(cases):
                want = torch.tensor(c["logits" if kind == "base" else "logits_with_adapter"])
                worst[kind] = max(worst[kind], float((got[i] - want).abs().max()))
                if kind == "base" and "last_hidden" in c:
                    n = len(c["input_ids"])
                    worst[kind] = max(worst[kind], float((h[i, n - 1] - torch.tensor(c["last_hidden"])).abs().max()),
                                      float((h[i, :n].mean(0) - torch.tensor(c["hidden_mean"])).abs().max()))
    print(f"{d}: {cfg['model_type']}, {len(cases)} cases; max |diff| vs transformers: base {worst['base']:.2e}, "
          f"with adapter {worst['adapter']:.2e}")
    ok = max(worst.values()) <= 1e-4
    step = d / "expected_train_step.json"
    if step.exists() and lora:
        s = json.loads(step.read_text())
        loss, grads = one_step(cfg, w, lora, scale, head, [c["input_ids"] for c in cases], s["labels"])
        want = read_safetensors(d / "adapter" / "expected_grads.safetensors")
        rel = max(float((grads[k] - v).abs().max() / v.abs().max()) for k, v in want.items())
        print(f"  train step: |loss diff| {abs(loss - s['loss']):.2e}, worst relative gradient diff {rel:.2e} "
              f"over {len(want)} tensors")
        ok &= abs(loss - s["loss"]) <= 1e-4 and rel <= 1e-4
    print("PEER OK" if ok else "PEER DIFFERS")
    return ok


def check_export(bundle, fixtures):
    """Each export of BUNDLE (environment/interop/make_bundle.sh): its logits against this peer reading the same
    model folder and adapter files (linear heads only; the peer has no other head)."""
    ok = True
    for f in sorted(bundle.glob("*.json")):
        e = json.loads(f.read_text())
        if e.get("format") != "arena-kit logits 1":
            continue
        model = Path(e["model"]) if Path(e["model"]).is_absolute() else f.parent / e["model"]
        if not model.exists() and fixtures is not None:
            model = fixtures / model.name
        cfg, w = load_model(model)
        runs = [("base", e.get("base_logits"), Decoder(cfg, w), None)]
        for a in e["adapters"]:
            adapter = Path(a["path"]) if Path(a["path"]).is_absolute() else f.parent / a["path"]
            if not adapter.exists():
                adapter = model / adapter.name
            lora, scale, head = load_adapter(adapter)
            if a["head"] != "SCORE":
                print(f"  {a['name']}: {a['head']} head, skipped (the peer has linear heads only)")
                continue
            runs.append((a["name"], a["logits"], Decoder(cfg, w, lora, scale), head or None))
        print(f"{f.name}: {cfg['model_type']} {model}")
        with torch.no_grad():
            for name, want, model_, head in runs:
                if want is None:
                    continue
                diff = max(float((model_.logits(*padded([ids]), head)[0][0] - torch.tensor(l)).abs().max())
                           for ids, l in zip(e["cases"], want))
                ok &= diff <= 1e-4
                print(f"  {name:<28} max |logit diff| {diff:.2e}")
    print("PEER OK" if ok else "PEER DIFFERS")
    return ok


def make_fixture(d, seed, lengths, rank):
    cfg, w = load_model(d)
    g = torch.Generator().manual_seed(seed)
    layers = cfg["num_hidden_layers"]
    lora = {}
    for i in range(layers):
        for t in TARGETS:
            module = f"model.layers.{i}.{'mlp' if t in ('gate_proj', 'up_proj', 'down_proj') else 'self_attn'}.{t}"
            out_f, in_f = w[module + ".weight"].shape
            lora[module] = {"A": torch.randn(rank, in_f, generator=g) * 0.1,
                            "B": torch.randn(out_f, rank, generator=g) * 0.1}
    alpha = 2 * rank
    scale = alpha / rank
    (d / "adapter").mkdir(exist_ok=True)
    write_safetensors(d / "adapter" / "adapter_model.safetensors",
                      {f"base_model.model.{m}.lora_{x}.weight": ab[x] for m, ab in lora.items() for x in ("A", "B")})
    (d / "adapter" / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "r": rank, "lora_alpha": alpha, "target_modules": TARGETS, "lora_dropout": 0.0,
        "bias": "none", "task_type": "SEQ_CLS", "base_model_name_or_path": "."}, indent=1))
    vocab = cfg["vocab_size"]
    seqs = [torch.randint(3, vocab, (n,), generator=g).tolist() for n in lengths]
    cases = []
    with torch.no_grad():
        base, adapted = Decoder(cfg, w), Decoder(cfg, w, lora, scale)
        for s in seqs:
            ids, lens = padded([s])
            logits, h = base.logits(ids, lens)
            with_adapter, _ = adapted.logits(ids, lens)
            cases.append({"input_ids": s, "logits": logits[0].tolist(), "last_hidden": h[0, -1].tolist(),
                          "hidden_mean": h[0].mean(0).tolist(), "logits_with_adapter": with_adapter[0].tolist()})
    (d / "expected.json").write_text(json.dumps({"note": "decoder_peer.py make-fixture (PyTorch eager, fp32)",
                                                 "cases": cases}, indent=1))
    labels = torch.randint(0, w["score.weight"].shape[0], (len(seqs),), generator=g).tolist()
    loss, grads = one_step(cfg, w, lora, scale, {}, seqs, labels)
    (d / "expected_train_step.json").write_text(json.dumps({"labels": labels, "loss": loss}, indent=1))
    write_safetensors(d / "adapter" / "expected_grads.safetensors", grads)
    print(f"{d}: {cfg['model_type']}, {len(seqs)} cases of {lengths} tokens, adapter r={rank} on {len(lora)} "
          f"modules, train-step loss {loss:.6f}")


def bench(d, threads, repeats, quantize="none"):
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    cfg, w = load_model(d / "model")
    plan = json.loads((d / "plan.json").read_text())
    seqs, batches = plan["sequences"], plan["batches"]
    int8 = quantize == "int8"
    model = Decoder(cfg, w, int8=int8)
    tokens = sum(len(s) for s in seqs)
    logits = [None] * len(seqs)

    def run(keep):
        for batch in batches:
            out, _ = model.logits(*padded([seqs[i] for i in batch]))
            if keep:
                for r, i in enumerate(batch):
                    logits[i] = out[r]

    times, cpu = [], []
    with torch.inference_mode():
        run(False)  # warm-up pass
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            run(True)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    median = statistics.median(times)
    print(f"PyTorch {torch.__version__} eager forward ({cfg['model_type']}{', int8 weights' if int8 else ''}), "
          f"{threads} threads: {len(seqs)} sequences in {len(batches)} batches, {tokens} real tokens")
    print(f"  passes: {[round(t, 3) for t in times]} s; median {median:.3f} s = {tokens / median:.0f} tokens/s "
          f"(process CPU {statistics.median(cpu):.3f} s)")
    if int8:
        java = json.loads((d / "int8_result.json").read_text())
        diff = max(float((torch.tensor(java["int8_logits"][i]) - logits[i]).abs().max()) for i in range(len(seqs)))
        r = java["speed"]["int8 -> float32"]
        print(f"  Java/DJL int8 -> float32: median {r['median_seconds']:.3f} s = {r['tokens_per_second']:.0f} tokens/s; "
              f"Java / peer = {r['tokens_per_second'] / (tokens / median):.2f}x; max |logit diff| {diff:.2e} "
              f"(the same codes and scales computed twice)")
        return
    java = d / "java_result.json"
    if java.exists():
        result = json.loads(java.read_text())
        peer_cpu = statistics.median(cpu)
        for layout in ("padded", "packed"):
            r = result[layout]
            diff = max(float((torch.tensor(r["logits"][i]) - logits[i]).abs().max()) for i in range(len(seqs)))
            print(f"  Java/DJL {layout}: median {r['median_seconds']:.3f} s = {r['tokens_per_second']:.0f} tokens/s "
                  f"(process CPU {r['median_cpu_seconds']:.3f} s); Java / peer = "
                  f"{r['tokens_per_second'] / (tokens / median):.2f}x by wall time, "
                  f"{peer_cpu / r['median_cpu_seconds']:.2f}x by CPU time; max |logit diff| {diff:.2e}")


def process_memory(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) * 1024
    return -1


def train_bench(d, length, checkpointing, memory):
    """The LoRA training-step peer of `bench-train-step`: the same model, starting adapter and head (d/adapter, saved
    by the Java worker), token ids (d/ids-LENGTH.json), one micro-batch per sequence, the step's mean cross-entropy,
    gradients clipped to norm 1, torch.optim.AdamW; tokens/s over the timed steps, or with `memory` the peak
    resident memory of one step after a warm-up step (what the Java side measures the same way)."""
    settings = json.loads((d / "settings.json").read_text())
    torch.set_num_threads(settings["threads"])
    torch.set_num_interop_threads(1)
    cfg, w = load_model(d / "model")
    lora, scale, head = load_adapter(d / "adapter")
    params = []
    for ab in lora.values():
        for which in ("A", "B"):
            ab[which] = ab[which].clone().requires_grad_(True)
            params.append(ab[which])
    score = head["score.weight"].clone().requires_grad_(True)
    params.append(score)
    model = Decoder(cfg, w, lora, scale)
    opt = torch.optim.AdamW(params, lr=settings["lr"], betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=settings["weight_decay"])
    seqs = json.loads((d / f"ids-{length}.json").read_text())

    def step():
        total = 0.0
        for i, s in enumerate(seqs):
            logits, _ = model.logits(*padded([s]), {"score.weight": score}, checkpoint=checkpointing)
            loss = F.cross_entropy(logits, torch.tensor([i % 3]), reduction="sum") / len(seqs)
            loss.backward()
            total += float(loss.detach())
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)
        return total

    runs = 1 if memory else settings["steps"]
    times, loss = [], 0.0
    for k in range(runs + 1):
        t0 = time.perf_counter()
        loss = step()
        if k > 0:
            times.append(time.perf_counter() - t0)
    peak = -1
    if memory:  # run with MALLOC_MMAP_THRESHOLD_=65536 (bench-train-step does): resident memory is live memory
        before = process_memory("VmRSS:")
        Path("/proc/self/clear_refs").write_text("5")
        step()
        peak = process_memory("VmHWM:") - before
    median = statistics.median(times)
    print(json.dumps({"impl": "peer", "torch": torch.__version__, "length": length, "checkpointing": checkpointing,
                      "seconds": median, "tokens_per_second": len(seqs) * length / median, "peak_bytes": peak,
                      "loss": loss}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    sub.add_parser("check-fixture").add_argument("dir", type=Path)
    mk = sub.add_parser("make-fixture")
    mk.add_argument("dir", type=Path)
    mk.add_argument("--seed", type=int, default=1)
    mk.add_argument("--lengths", type=int, nargs="+", default=[5, 17, 40, 9])
    mk.add_argument("--rank", type=int, default=4)
    tb = sub.add_parser("train-bench")
    tb.add_argument("dir", type=Path)
    tb.add_argument("--length", type=int, required=True)
    tb.add_argument("--checkpointing", action="store_true")
    tb.add_argument("--memory", action="store_true")
    ce = sub.add_parser("check-export")
    ce.add_argument("bundle", type=Path)
    ce.add_argument("--fixtures", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "fixtures")
    b = sub.add_parser("bench")
    b.add_argument("dir", type=Path)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--quantize", choices=["none", "int8"], default="none")
    args = ap.parse_args()
    torch.manual_seed(0)
    if args.mode == "check-fixture":
        torch.set_num_threads(1)
        sys.exit(0 if check_fixture(args.dir) else 1)
    elif args.mode == "train-bench":
        train_bench(args.dir, args.length, args.checkpointing, args.memory)
    elif args.mode == "check-export":
        torch.set_num_threads(1)
        sys.exit(0 if check_export(args.bundle, args.fixtures if args.fixtures.exists() else None) else 1)
    elif args.mode == "make-fixture":
        torch.set_num_threads(1)
        make_fixture(args.dir, args.seed, args.lengths, args.rank)
    else:
        bench(args.dir, args.threads, args.repeats, args.quantize)


if __name__ == "__main__":
    main()
