#!/usr/bin/env python3
"""arena-kit against the real Python libraries: transformers' *ForSequenceClassification and PEFT.

Usage:  python3 check_transformers_peft.py BUNDLE [--fixtures DIR] [--tolerance 1e-4] [--report FILE]

BUNDLE is what environment/interop/make_bundle.sh wrote (on any machine with Java): JSON files from
`parity.java DIR --export FILE` holding arena-kit's logits for a model folder's inputs, without and with adapters,
next to copies of the small model folders and adapters they name (a tiny base model and the adapters of trained
tiny stages, one of them an average). For each file this script loads the model folder with
AutoModelForSequenceClassification (fp32, eager attention), each adapter with PeftModel.from_pretrained (kept
separate, then merged with merge_and_unload), runs every input alone and compares the logits with arena-kit's.
It also checks that PEFT took every tensor of the adapter file. Fixture folders that are not in the bundle are
looked up in --fixtures (default: ../shared/fixtures of this checkout). Exit code 0 when every difference is within
the tolerance, 1 otherwise. Needs only the standard library, torch, transformers and peft.
"""
import argparse
import json
import platform
import struct
import sys
from pathlib import Path

import peft
import torch
import transformers
from peft import PeftModel
from transformers import AutoModelForSequenceClassification

HERE = Path(__file__).resolve().parent
FORMAT = "arena-kit logits 1"


def safetensors_keys(path):
    """The tensor names of a safetensors file (its JSON header), with the standard library only."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    return sorted(k for k in header if k != "__metadata__")


def head_module(kind, hidden, labels):
    """The `score` module of arena-kit's head kinds (arenakit.model.ClassifierHead), as PyTorch modules."""
    nn = torch.nn
    if kind == "SCORE":
        return nn.Linear(hidden, labels, bias=False)
    if kind == "DROPOUT_MLP":
        return nn.Sequential(nn.Dropout(0.1), nn.Linear(hidden, hidden // 2), nn.Dropout(0.1), nn.GELU(),
                             nn.Linear(hidden // 2, labels))
    if kind == "MLP3":
        return nn.Sequential(nn.Linear(hidden, hidden // 2), nn.GELU(), nn.Linear(hidden // 2, hidden // 4),
                             nn.GELU(), nn.Linear(hidden // 4, labels))
    raise ValueError(f"unknown head kind {kind}")


def resolve(path, home, elsewhere):
    """A path of the export: relative to the export's folder or absolute, else the first of `elsewhere` that exists
    (a fixture folder by its name under --fixtures; a fixture's adapter inside that folder)."""
    p = Path(path)
    candidates = [p if p.is_absolute() else home / p] + [c for c in elsewhere if c is not None]
    for c in candidates:
        if c.exists():
            return c
    raise FileNotFoundError(f"{path}: not found (looked at {', '.join(str(c) for c in candidates)})")


def load_base(model_dir, labels):
    model = AutoModelForSequenceClassification.from_pretrained(
        str(model_dir), num_labels=labels, torch_dtype=torch.float32, attn_implementation="eager")
    return model.eval()


@torch.no_grad()
def logits(model, cases):
    return [model(input_ids=torch.tensor([ids], dtype=torch.long)).logits[0].float().tolist() for ids in cases]


def max_diff(want, got):
    return max(abs(a - b) for wa, ga in zip(want, got) for a, b in zip(wa, ga))


def check_export(file, fixtures, tolerance, rows):
    export = json.loads(file.read_text())
    if export.get("format") != FORMAT:
        raise ValueError(f"{file}: not an arena-kit logits export (format {export.get('format')!r})")
    home = file.parent
    model_dir = resolve(export["model"], home, [fixtures / Path(export["model"]).name if fixtures else None])
    labels = export["num_labels"]
    cases = export["cases"]
    ok = True

    def record(what, diff, note=""):
        nonlocal ok
        good = diff <= tolerance
        ok &= good
        rows.append({"export": file.name, "model": model_dir.name, "what": what, "max_abs_diff": diff,
                     "ok": good, "note": note})
        print(f"  {what:<44} max |logit diff| {diff:.2e}  {'ok' if good else 'FAILED'}{'  ' + note if note else ''}")

    print(f"{file.name}: {export['model_type']} {model_dir} ({len(cases)} inputs)")
    if export.get("base_logits") is not None:
        record("base (transformers)", max_diff(export["base_logits"], logits(load_base(model_dir, labels), cases)))
    for a in export["adapters"]:
        adapter_dir = resolve(a["path"], home, [model_dir / Path(a["path"]).name])
        base = load_base(model_dir, labels)
        if a["head"] != "SCORE":  # a custom head: build the same module as `score` first
            base.score = head_module(a["head"], a["hidden_size"], labels)
        model = PeftModel.from_pretrained(base, str(adapter_dir)).eval()
        loaded = set(peft.utils.get_peft_model_state_dict(model).keys())
        missed = [k for k in safetensors_keys(adapter_dir / "adapter_model.safetensors") if k not in loaded]
        note = ("base head (the adapter has none)" if a.get("base_head") else "") + (
            f"; PEFT did not take {len(missed)} tensor(s), e.g. {missed[0]}" if missed else "")
        record(f"{a['name']} (PEFT, separate)", max_diff(a["logits"], logits(model, cases)), note)
        if missed:
            ok = False
            rows[-1]["ok"] = False
        record(f"{a['name']} (PEFT, merge_and_unload)", max_diff(a["logits"], logits(model.merge_and_unload(), cases)))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", type=Path, help="the folder make_bundle.sh wrote (or one export JSON file)")
    ap.add_argument("--fixtures", type=Path, default=HERE.parent.parent.parent / "shared" / "fixtures",
                    help="where fixture folders named by the exports are (default: ../shared/fixtures)")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="largest allowed |logit difference| (fp32)")
    ap.add_argument("--report", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()
    torch.manual_seed(0)
    versions = {"python": platform.python_version(), "torch": torch.__version__,
                "transformers": transformers.__version__, "peft": peft.__version__}
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    files = [args.bundle] if args.bundle.is_file() else sorted(args.bundle.glob("*.json"))
    files = [f for f in files if f.name != "results.json"]
    if not files:
        print(f"no export JSON files in {args.bundle}", file=sys.stderr)
        return 2
    rows = []
    ok = True
    for f in files:
        ok &= check_export(f, args.fixtures if args.fixtures.exists() else None, args.tolerance, rows)
    print("INTEROP OK" if ok else "INTEROP FAILED: a difference exceeds the tolerance or a tensor was not loaded")
    if args.report:
        args.report.write_text(json.dumps({"versions": versions, "tolerance": args.tolerance, "ok": ok,
                                           "results": rows}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
