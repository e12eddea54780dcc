"""PyTorch eager peer of the Java Gemma-2 forward benchmark (docs/benchmarks.md).

Runs the same math as transformers' Gemma2ForSequenceClassification with eager attention (repeat_kv, additive
causal + sliding-window + padding mask, fp32 softmax, tanh-GELU, four sandwich norms, score on the last real token)
on the checkpoint and batch plan that `bench-model --dir DIR` wrote, with the same number of threads, and checks
its logits against the Java ones. A benchmark tool only: the product never depends on Python.

    python docs/bench/gemma2_peer.py DIR --threads 2
"""
import argparse
import json
import math
import statistics
import struct
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


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
        else:
            arr = np.frombuffer(raw, dtype=np.float32)
        out[name] = torch.from_numpy(arr.reshape(e["shape"]).copy())
    return out


def load(model_dir):
    cfg = json.loads((model_dir / "config.json").read_text())
    weights = {}
    for f in sorted(model_dir.glob("*.safetensors")):
        weights.update(read_safetensors(f))
    return cfg, weights


class Gemma2:
    def __init__(self, cfg, w):
        self.c, self.w = cfg, w
        d = cfg["head_dim"]
        self.inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))

    def rms(self, x, w):
        out = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["rms_norm_eps"])
        return out * (1.0 + w)

    @staticmethod
    def rotate_half(x):
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
        return torch.cat((-x2, x1), dim=-1)

    def forward(self, ids, lengths):
        c, w = self.c, self.w
        b, t = ids.shape
        nh, nkv, d = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        x = F.embedding(ids, w["model.embed_tokens.weight"]) * torch.tensor(c["hidden_size"] ** 0.5)
        pos = torch.arange(t).float()
        freqs = pos[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        keep = torch.arange(t)[None, :] < lengths[:, None]                       # padding mask [b, t]
        qi, ki = torch.arange(t)[:, None], torch.arange(t)[None, :]
        min_value = torch.finfo(torch.float32).min
        masks = {}
        for sliding in (False, True):
            allowed = (ki <= qi)[None] & keep[:, None, :]
            if sliding and c.get("sliding_window"):
                allowed = allowed & (ki > qi - c["sliding_window"])[None]
            masks[sliding] = torch.where(allowed, 0.0, min_value)[:, None]       # [b, 1, t, t]
        cap = c.get("attn_logit_softcapping")
        for i in range(c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            residual = x
            h = self.rms(x, w[p + "input_layernorm.weight"])
            q = F.linear(h, w[p + "self_attn.q_proj.weight"]).view(b, t, nh, d).transpose(1, 2)
            k = F.linear(h, w[p + "self_attn.k_proj.weight"]).view(b, t, nkv, d).transpose(1, 2)
            v = F.linear(h, w[p + "self_attn.v_proj.weight"]).view(b, t, nkv, d).transpose(1, 2)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            k = k.repeat_interleave(nh // nkv, dim=1)
            v = v.repeat_interleave(nh // nkv, dim=1)
            s = torch.matmul(q, k.transpose(2, 3)) * c["query_pre_attn_scalar"] ** -0.5
            if cap:
                s = torch.tanh(s / cap) * cap
            s = s + masks[i % 2 == 0]
            a = torch.matmul(F.softmax(s, dim=-1, dtype=torch.float32), v)
            a = F.linear(a.transpose(1, 2).reshape(b, t, nh * d), w[p + "self_attn.o_proj.weight"])
            x = residual + self.rms(a, w[p + "post_attention_layernorm.weight"])
            residual = x
            h = self.rms(x, w[p + "pre_feedforward_layernorm.weight"])
            m = F.gelu(F.linear(h, w[p + "mlp.gate_proj.weight"]), approximate="tanh") \
                * F.linear(h, w[p + "mlp.up_proj.weight"])
            m = F.linear(m, w[p + "mlp.down_proj.weight"])
            x = residual + self.rms(m, w[p + "post_feedforward_layernorm.weight"])
        x = self.rms(x, w["model.norm.weight"])
        last = x[torch.arange(b), lengths - 1]
        return F.linear(last, w["score.weight"])


def run_plan(model, seqs, batches, pad_id, logits=None):
    for batch in batches:
        longest = max(len(seqs[i]) for i in batch)
        ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
        for r, i in enumerate(batch):
            ids[r, : len(seqs[i])] = torch.tensor(seqs[i])
        lengths = torch.tensor([len(seqs[i]) for i in batch])
        out = model.forward(ids, lengths)
        if logits is not None:
            for r, i in enumerate(batch):
                logits[i] = out[r]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    cfg, w = load(args.dir / "model")
    plan = json.loads((args.dir / "plan.json").read_text())
    seqs, batches = plan["sequences"], plan["batches"]
    model = Gemma2(cfg, w)
    tokens = sum(len(s) for s in seqs)
    logits = [None] * len(seqs)
    times, cpu = [], []
    with torch.inference_mode():
        run_plan(model, seqs, batches, cfg["pad_token_id"])  # warm-up pass
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            run_plan(model, seqs, batches, cfg["pad_token_id"], logits)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    median = statistics.median(times)
    print(f"PyTorch {torch.__version__} eager forward, {args.threads} threads: {len(seqs)} sequences in "
          f"{len(batches)} batches, {tokens} real tokens")
    print(f"  passes: {[round(t, 3) for t in times]} s; median {median:.3f} s = {tokens / median:.0f} tokens/s "
          f"(process CPU {statistics.median(cpu):.3f} s)")
    java = args.dir / "java_result.json"
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

if __name__ == "__main__":
    main()
