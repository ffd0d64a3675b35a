"""Accuracy of the extractor over the whole sample corpus, against truth.json.

    .venv/bin/python -m bench.accuracy [--workers N] [--only R001,R002]

Prints a table and writes bench/results/accuracy.json and accuracy.md. Figures are
reported per input category (fine faxes, standard faxes, born-digital PDFs, scanned
PDFs, photos); see bench/README.md for what each one means.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from datetime import datetime
from typing import Any

from bench.corpus import ROOT, load_inputs
from detainer_intake.config import load_settings
from parsing.extract import extract_many

RESULTS = ROOT / "bench" / "results"
CATEGORIES = ("fine_fax", "standard_fax", "born_digital_pdf", "scanned_pdf", "photo")
FIELDS = (
    "form_type", "form_revision", "subject_id", "event_number", "file_number", "issued_date", "to_institution",
    "from_office", "subject_name", "date_of_birth", "citizenship", "sex", "probable_cause",
    "transferred_for_proceeding", "requested_actions", "cancels_previous", "cancelled_detainer_date",
    "officer_name", "warrant_form", "fax_sender_number", "fax_sent_at", "source_pages",
)
PC = ("final_order", "pending_proceedings", "biometric_records", "statements_evidence")
ACTIONS = ("notify", "maintain_custody", "relay", "notify_death_transfer")
TARGETS = {"fine_fax": 0.99, "born_digital_pdf": 0.99, "standard_fax": 0.97}


def _norm(name: str, value: Any) -> Any:
    if name == "fax_sent_at" and value:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    return value


def checkbox_states(d: dict[str, Any]) -> dict[str, bool]:
    states = {f"probable_cause:{k}": k in (d.get("probable_cause") or []) for k in PC}
    states |= {f"requested_actions:{k}": k in (d.get("requested_actions") or []) for k in ACTIONS}
    states["transferred_for_proceeding"] = bool(d.get("transferred_for_proceeding"))
    states["cancels_previous"] = bool(d.get("cancels_previous"))
    return states


def pair_detainers(truth: list[dict], got: list[dict]) -> list[tuple[dict, dict | None]]:
    """Match each true detainer to the extracted one sharing its page 1, else by order."""
    pairs, used = [], set()
    for t in truth:
        first = t["source_pages"][0] if t["source_pages"] else None
        match = next((i for i, g in enumerate(got) if i not in used and g["source_pages"][:1] == [first]), None)
        if match is None:
            match = next((i for i in range(len(got)) if i not in used), None)
        if match is not None:
            used.add(match)
        pairs.append((t, got[match] if match is not None else None))
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--only", default="")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    ids = set(args.only.split(",")) if args.only else None
    inputs = load_inputs(ids)
    # The sample configuration's parsing settings (its department's names), as a run uses them.
    settings = load_settings(ROOT / "config" / "sample.toml").parsing.model_copy(update={"workers": args.workers})
    by_id = {i.id: i for i in inputs}

    field_hits: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    box_hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    kind_hits = [0, 0]
    rotation_hits = [0, 0]
    tp = fp = fn = tn = 0
    decoys_extracted: list[str] = []
    broken_ok: list[int] = [0, 0]
    mismatches: list[dict[str, Any]] = []
    started = time.perf_counter()
    results = extract_many(((i.id, i.content) for i in inputs), settings=settings)
    for rid, result in results:
        item = by_id[rid]
        receipt, cat = item.receipt, item.category
        if receipt["kind"] == "broken":
            broken_ok[1] += 1
            broken_ok[0] += int(result.error_reason == receipt["broken_reason"])
            if result.error_reason != receipt["broken_reason"]:
                mismatches.append({"receipt": rid, "field": "error_reason", "want": receipt["broken_reason"],
                                   "got": result.error_reason})
            continue
        truth_det = receipt["detainers"]
        got = [d.model_dump(mode="json", exclude={"evidence"}) for d in result.detainers]
        has_truth, has_got = bool(truth_det), bool(got)
        tp += has_truth and has_got
        fp += (not has_truth) and has_got
        fn += has_truth and not has_got
        tn += (not has_truth) and not has_got
        if receipt["kind"] == "decoy" and got:
            decoys_extracted.append(rid)
        truth_pages = {p["page"]: p for p in receipt["pages"]}
        for page in result.pages:
            want = truth_pages.get(page.page)
            if want is None:
                continue
            kind_hits[1] += 1
            kind_hits[0] += int(page.kind.value == want["kind"])
            rotation_hits[1] += 1
            rotation_hits[0] += int(page.rotation == want["rotation"])
            if page.kind.value != want["kind"] or page.rotation != want["rotation"]:
                mismatches.append({"receipt": rid, "field": f"page{page.page}",
                                   "want": [want["kind"], want["rotation"]], "got": [page.kind.value, page.rotation]})
        for t, g in pair_detainers(truth_det, got):
            for name in FIELDS:
                hit = g is not None and _norm(name, g.get(name)) == _norm(name, t.get(name))
                field_hits[cat][name][0] += int(hit)
                field_hits[cat][name][1] += 1
                if not hit:
                    # Field names and receipt ids only in the committed results: no values.
                    mismatches.append({"receipt": rid, "field": name,
                                       **({"want": t.get(name), "got": g.get(name) if g else None}
                                          if args.verbose else {})})
            want_boxes = checkbox_states(t)
            got_boxes = checkbox_states(g) if g is not None else {}
            for key, state in want_boxes.items():
                box_hits[cat][1] += 1
                box_hits[cat][0] += int(got_boxes.get(key) == state)
    elapsed = time.perf_counter() - started

    def rate(hits: list[int]) -> float | None:
        return round(hits[0] / hits[1], 4) if hits[1] else None

    per_category = {}
    for cat in CATEGORIES:
        fields = field_hits.get(cat, {})
        total = [sum(v[0] for v in fields.values()), sum(v[1] for v in fields.values())]
        per_category[cat] = {
            "field_exact_match": rate(total),
            "fields_compared": total[1],
            "checkbox_accuracy": rate(box_hits.get(cat, [0, 0])),
            "checkboxes_compared": box_hits.get(cat, [0, 0])[1],
            "per_field": {name: rate(v) for name, v in sorted(fields.items())},
            "target_field_exact_match": TARGETS.get(cat),
        }
    all_boxes = [sum(v[0] for v in box_hits.values()), sum(v[1] for v in box_hits.values())]
    report = {
        "inputs": len(inputs),
        "seconds": round(elapsed, 1),
        "categories": per_category,
        "checkbox_accuracy_all": rate(all_boxes),
        "detainer_detection": {
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        },
        "decoys_extracted_as_detainers": decoys_extracted,
        "broken_inputs_correct_reason": rate(broken_ok),
        "page_kind_accuracy": rate(kind_hits),
        "page_rotation_accuracy": rate(rotation_hits),
        "mismatches": mismatches,
    }
    if not ids:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "accuracy.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (RESULTS / "accuracy.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    if args.verbose:
        for m in mismatches:
            print(m)
    return 0


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Extraction accuracy on the sample corpus",
        "",
        f"{report['inputs']} inputs in {report['seconds']} s.",
        "",
        "| category | field exact-match | target | fields | checkbox accuracy | boxes |",
        "|---|---|---|---|---|---|",
    ]
    for cat, row in report["categories"].items():
        target = row["target_field_exact_match"]
        lines.append(
            f"| {cat} | {_pct(row['field_exact_match'])} | {_pct(target) if target else '-'} | "
            f"{row['fields_compared']} | {_pct(row['checkbox_accuracy'])} | {row['checkboxes_compared']} |"
        )
    det = report["detainer_detection"]
    lines += [
        "",
        # two decimals: a rounded 99.5% must not pass for the target
        f"- checkbox accuracy, all categories: {report['checkbox_accuracy_all']:.2%} (target 99.50%)",
        f"- detainer vs other, per input: precision {_pct(det['precision'])}, recall {_pct(det['recall'])} "
        f"(tp {det['tp']}, fp {det['fp']}, fn {det['fn']}, tn {det['tn']})",
        f"- decoys extracted as detainers: {len(report['decoys_extracted_as_detainers'])} (target 0)",
        f"- broken inputs with the right error_reason: {_pct(report['broken_inputs_correct_reason'])}",
        f"- page kind accuracy: {_pct(report['page_kind_accuracy'])}; "
        f"page rotation accuracy: {_pct(report['page_rotation_accuracy'])}",
        "",
        "## Per-field exact match",
        "",
        "| field | " + " | ".join(report["categories"]) + " |",
        "|---|" + "---|" * len(report["categories"]),
    ]
    for name in FIELDS:
        cells = [_pct(row["per_field"].get(name)) for row in report["categories"].values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


if __name__ == "__main__":
    raise SystemExit(main())
