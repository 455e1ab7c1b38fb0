#!/usr/bin/env python3
"""Naive baseline for cccwatch: fuzzy-match every listing against every
certificate with rapidfuzz.process.extractOne and take the best hit's status.

The naive tool knows nothing about product scope, cited certificate numbers
or model mismatch: score >= threshold -> that certificate's status on the
as-of date, otherwise -> "uncertified". That is the point of the comparison.

Because extractOne scans all certificates for every listing, only a random
sample of listings (fixed seed) is run; throughput is extrapolated.
"""
import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import sys
import time

import rapidfuzz
from rapidfuzz import fuzz, process, utils

SCORERS = {"token_set_ratio": fuzz.token_set_ratio, "WRatio": fuzz.WRatio}
OK = {"compliant", "not_in_scope"}


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"nproc": os.cpu_count(), "cpu_model": model,
            "python": platform.python_version(),
            "rapidfuzz": rapidfuzz.__version__,
            "loadavg_at_start": load}


def parse_date(s):
    s = (s or "").strip()
    return dt.date.fromisoformat(s) if s else None


def verdict_on(status, expires, changed, as_of):
    """Same status rule as cccwatch (src/matching/index.rs CertEntry::verdict_on)."""
    status = status.strip()
    if changed is not None and changed > as_of and status != "有效":
        status = "有效"  # status change lies after the as-of date
    if status.startswith("撤销"):
        return "revoked"
    if status.startswith("注销"):
        return "cancelled"
    if expires is not None and expires < as_of:
        return "expired"
    if status.startswith("过期") or status.startswith("失效"):
        return "expired"
    if status.startswith("暂停"):
        return "suspended"
    return "compliant"


def load_certs(path, as_of):
    nos, verdicts, choices = [], [], []
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            nos.append(row["证书编号"])
            verdicts.append(verdict_on(row["证书状态"], parse_date(row["证书到期日期"]),
                                       parse_date(row["状态变更日期"]), as_of))
            choices.append(f'{row["认证委托人名称"]} {row["产品名称"]} {row["规格型号"]}')
    return nos, verdicts, choices


def load_listings(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
    return out


def query_of(listing):
    parts = [listing.get("title", "")]
    params = listing.get("params") or {}
    for k in ("品牌", "型号"):
        if params.get(k):
            parts.append(params[k])
    return " ".join(parts)


def evaluate(sample, picks, scores, nos, verdicts, truth, threshold):
    rows = []
    for lst, idx, sc in zip(sample, picks, scores):
        t_verdict, t_cert = truth[lst["item_id"]]
        hit = sc >= threshold
        rows.append({"item_id": lst["item_id"], "truth": t_verdict, "truth_cert": t_cert,
                     "naive": verdicts[idx] if hit else "uncertified",
                     "picked": nos[idx] if hit else "", "top1": nos[idx], "score": sc})
    n = len(rows)
    exact = sum(r["naive"] == r["truth"] for r in rows)
    pred_flag = [r["naive"] not in OK for r in rows]
    true_flag = [r["truth"] not in OK for r in rows]
    tp = sum(p and t for p, t in zip(pred_flag, true_flag))
    with_cert = [r for r in rows if r["truth_cert"]]
    right = sum(r["picked"] == r["truth_cert"] for r in with_cert)
    right_top1 = sum(r["top1"] == r["truth_cert"] for r in with_cert)
    per_verdict = {}
    for r in rows:
        d = per_verdict.setdefault(r["truth"], {"n": 0, "correct": 0})
        d["n"] += 1
        d["correct"] += r["naive"] == r["truth"]
    return {
        "n": n,
        "exact_accuracy": exact / n if n else None,
        "flag_precision": tp / sum(pred_flag) if sum(pred_flag) else None,
        "flag_recall": tp / sum(true_flag) if sum(true_flag) else None,
        "flagged_pred": sum(pred_flag), "flagged_true": sum(true_flag), "flag_tp": tp,
        "with_truth_cert": len(with_cert),
        "right_cert_rate": right / len(with_cert) if with_cert else None,
        "right_cert_top1_ignoring_threshold": right_top1 / len(with_cert) if with_cert else None,
        "per_truth_verdict": per_verdict,
    }, rows


def sweep(sample, picks, scores, nos, verdicts, truth):
    """Same picks, other thresholds (free: scores are already computed).
    The best one is tuned on the test sample itself, so it is optimistic."""
    out = []
    for th in range(0, 101, 5):
        m, _ = evaluate(sample, picks, scores, nos, verdicts, truth, th)
        out.append({"threshold": th, **{k: m[k] for k in
                    ("exact_accuracy", "flag_precision", "flag_recall", "right_cert_rate")}})
    best = max(out, key=lambda r: (r["exact_accuracy"], r["threshold"]))
    return out, best


def run_extractone(queries, choices, scorer, per_call_processor):
    picks, scores, times = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        if per_call_processor:
            # processor applied to query and to all choices on every call
            _, sc, idx = process.extractOne(q, choices, scorer=scorer,
                                            processor=utils.default_process)
        else:
            # choices were pre-processed once; same result, less work per call
            _, sc, idx = process.extractOne(utils.default_process(q), choices,
                                            scorer=scorer, processor=None)
        times.append(time.perf_counter() - t0)
        picks.append(idx)
        scores.append(sc)
    return picks, scores, times


def run_cdist(queries, choices, scorer, mem_bytes=256 << 20):
    import numpy as np
    qs = [utils.default_process(q) for q in queries]
    chunk = max(1, mem_bytes // (4 * len(choices)))
    picks, scores = [], []
    t0 = time.perf_counter()
    for i in range(0, len(qs), chunk):
        m = process.cdist(qs[i:i + chunk], choices, scorer=scorer, processor=None,
                          dtype=np.float32, workers=-1)
        idx = m.argmax(axis=1)  # first maximum, like extractOne
        picks.extend(int(j) for j in idx)
        scores.extend(float(m[r, j]) for r, j in enumerate(idx))
    return picks, scores, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--threshold", type=float, default=80.0)
    ap.add_argument("--sample", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20260630)
    ap.add_argument("--scorer", choices=[*SCORERS, "both"], default="token_set_ratio")
    ap.add_argument("--as-of", default="2026-06-30")
    ap.add_argument("--per-call-processor", action="store_true",
                    help="pass processor=default_process to every extractOne call "
                         "(re-processes all choices per listing) instead of pre-processing once")
    ap.add_argument("--cdist", action="store_true",
                    help="also time batched process.cdist(workers=-1) on the same sample (needs numpy)")
    ap.add_argument("--json-out")
    ap.add_argument("--note", default="", help="free text stored in the JSON (e.g. machine load)")
    a = ap.parse_args()
    as_of = dt.date.fromisoformat(a.as_of)

    info = machine()
    print(f"machine: nproc={info['nproc']} cpu={info['cpu_model']!r} python={info['python']} "
          f"rapidfuzz={info['rapidfuzz']} loadavg={info['loadavg_at_start']}")

    t0 = time.perf_counter()
    nos, verdicts, raw_choices = load_certs(os.path.join(a.dir, "certificates.csv"), as_of)
    listings = load_listings(os.path.join(a.dir, "listings.jsonl"))
    truth = {}
    with open(os.path.join(a.dir, "truth.csv"), encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            truth[r["item_id"]] = (r["verdict"], r["cert_no"])
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    pre_choices = [utils.default_process(c) for c in raw_choices]
    t_prep = time.perf_counter() - t0
    print(f"data: {len(nos)} certificates, {len(listings)} listings "
          f"(load {t_load:.1f}s, pre-process choices {t_prep:.1f}s)")

    rng = random.Random(a.seed)
    sample = rng.sample(listings, min(a.sample, len(listings)))
    queries = [query_of(l) for l in sample]
    choices = raw_choices if a.per_call_processor else pre_choices

    result = {"dir": os.path.abspath(a.dir), "as_of": a.as_of, "threshold": a.threshold,
              "sample": len(sample), "seed": a.seed, "certificates": len(nos),
              "listings_total": len(listings), "machine": info, "note": a.note,
              "load_seconds": t_load, "preprocess_choices_seconds": t_prep,
              "per_call_processor": a.per_call_processor, "runs": {}}

    scorers = list(SCORERS) if a.scorer == "both" else [a.scorer]
    hdr = (f"{'method':<40}{'ms/listing':>11}{'listings/s':>11}{'all listings':>14}"
           f"{'exact':>7}{'flagP':>7}{'flagR':>7}{'rightCert':>10}{'top1Cert':>9}")
    table = []
    for name in scorers:
        scorer = SCORERS[name]
        picks, scores, times = run_extractone(queries, choices, scorer, a.per_call_processor)
        total = sum(times)
        rate = len(times) / total
        metrics, rows = evaluate(sample, picks, scores, nos, verdicts, truth, a.threshold)
        key = f"extractOne/{name}"
        result["runs"][key] = {
            "threads": 1, "seconds_sample": total, "ms_per_listing_mean": 1000 * total / len(times),
            "ms_per_listing_median": 1000 * sorted(times)[len(times) // 2],
            "listings_per_s": rate, "extrapolated_seconds_all_listings": len(listings) / rate,
            **metrics, "rows": rows}
        sw, best = sweep(sample, picks, scores, nos, verdicts, truth)
        result["runs"][key]["threshold_sweep"] = sw
        result["runs"][key]["best_threshold_on_sample"] = best
        table.append((f"extractOne {name} (1 thread)", result["runs"][key]))
        if a.cdist:
            cp, cs, ct = run_cdist(queries, pre_choices, scorer)
            cm, _ = evaluate(sample, cp, cs, nos, verdicts, truth, a.threshold)
            agree = sum(x == y for x, y in zip(cp, picks))
            ckey = f"cdist/{name}"
            result["runs"][ckey] = {
                "threads": info["nproc"], "seconds_sample": ct,
                "ms_per_listing_mean": 1000 * ct / len(queries),
                "listings_per_s": len(queries) / ct,
                "extrapolated_seconds_all_listings": len(listings) * ct / len(queries),
                "same_pick_as_extractOne": agree, **cm}
            table.append((f"cdist {name} (workers=-1)", result["runs"][ckey]))

    print(f"\nsample {len(sample)} of {len(listings)} listings, threshold {a.threshold}, as of {a.as_of}")
    print(hdr)
    for label, r in table:
        f = lambda x: "   n/a" if x is None else f"{100 * x:6.1f}"
        print(f"{label:<40}{r['ms_per_listing_mean']:>11.1f}{r['listings_per_s']:>11.2f}"
              f"{r['extrapolated_seconds_all_listings'] / 3600:>12.2f} h"
              f"{f(r['exact_accuracy']):>7}{f(r['flag_precision']):>7}{f(r['flag_recall']):>7}"
              f"{f(r['right_cert_rate']):>10}{f(r['right_cert_top1_ignoring_threshold']):>9}")
    for label, r in table:
        b = r.get("best_threshold_on_sample")
        if b:
            f = lambda x: "n/a" if x is None else f"{100 * x:.1f}"
            print(f"  {label}: best threshold on this sample = {b['threshold']} -> exact "
                  f"{f(b['exact_accuracy'])}, flagP {f(b['flag_precision'])}, "
                  f"flagR {f(b['flag_recall'])}, rightCert {f(b['right_cert_rate'])} (optimistic: tuned on test)")
    print("(exact = verdict accuracy %, flagP/flagR = precision/recall of 'flagged' "
          "(verdict not compliant/not_in_scope) %, rightCert = picked cert == true cert % "
          "among listings whose truth has a cert_no; top1Cert = same, ignoring the threshold)")
    if a.json_out:
        with open(a.json_out, "w", encoding="utf-8") as f:
            json.dump(result, f, ensure_ascii=False, indent=1)
        print(f"wrote {a.json_out}")


if __name__ == "__main__":
    main()
