#!/usr/bin/python3
"""Split a `perf record -g` profile of xgb_train into the phases of training.

    perf script -i FILE | /usr/bin/python3 bench/gbt_perf_breakdown.py

Each sample goes to the first phase whose function appears in its call chain,
the leaf first (so a histogram task run by a worker thread counts as
histograms, and the kernel's thread start as thread start).  The phases are
those of docs/benchmarks.md's gbt profile (bench/gbt_perf.py records one).
"""
import collections
import sys

# (phase, functions) in order of precedence; the leaf-most match wins
PHASES = [
    ("canonical sort (rowstore_order.c)", ("sf_rows_canonical_order", "CanonicalPerm", "cmp_rows_key",
                                           "sf_rows_hash", "RowsToDouble", "SfRowsCanonical", "sf_rows_widen")),
    # glibc's qsort has no frame pointers: its samples lose their caller; in
    # xgb_train only the drift section sorts doubles (sf_dist_build)
    # the drift section: the model's scorer over every row (gbt_fast), the
    # features' bins (sf_dist_*), the trainer's counts per code (count_task)
    ("drift section (governance: scoring the training rows)", ("SfGovAttachDrift", "SfGovAttachDriftScores",
                                                               "SfGovAttachDriftCoded", "DriftFeatures",
                                                               "AttachDriftKept", "msort_with_tmp.part.0",
                                                               "cmp_double", "sf_dist_build", "sf_dist_build_on",
                                                               "sf_dist_build_codes", "sf_dist_bin",
                                                               "select_order_stats", "walk_group.isra.0",
                                                               "walk_group", "gbt_fast_margin", "gbt_predict",
                                                               "count_task")),
    ("quantile sketch / bin edges", ("bins_task", "bins_feature", "radix_sort")),
    ("quantisation (bin codes)", ("code_block",)),
    ("histogram building", ("hist_task", "hist_rows_u8", "hist_rows_u16", "__memset_avx2_unaligned_erms", "gbt_hist_build", "hist_build_task", "child_histograms")),
    ("split finding", ("split_task", "gbt_split_find", "gbt_calc_gain", "consider")),
    ("partition", ("partition_task", "partition", "partition_split_task", "partition_place_task",
                   "split_chunk_u8", "split_chunk_u16", "partition_level")),
    # libm has no frame pointers either: exp and log are the row passes' (gradients, logloss)
    ("gradients, margins, training metric", ("row_pass_task", "train_score", "boost_round",
                                             "__ieee754_log_fma", "__ieee754_exp_fma", "exp@@GLIBC_2.29",
                                             "log@@GLIBC_2.29", "__log1p_fma")),
    # glibc's memcpy loses its caller too: mostly the partition's placing pass
    ("memcpy (glibc; mostly the partition's second pass)", ("__memmove_avx_unaligned_erms",)),
    ("thread start and join", ("pthread_create", "pthread_join", "clone", "clone3", "start_thread",
                               "worker_main", "sf_pool_run")),
    ("scan, detoast and row store append", ("xgb_train_sfunc", "xgb_train_w_sfunc", "SfRowsAppendArray",
                                            "ExecScan", "heap_getnextslot", "SeqNext", "ExecAgg",
                                            "advance_aggregates", "detoast_attr")),
]


def phase_of(frames):
    for f in frames:  # leaf first
        for name, funcs in PHASES:
            if f in funcs:
                return name
    return "the rest"


def main():
    leaves = collections.defaultdict(collections.Counter)
    counts = collections.Counter()
    frames = []
    total = 0
    for line in list(sys.stdin) + ["\n"]:
        s = line.strip()
        if not s:
            if frames:
                ph = phase_of(frames)
                counts[ph] += 1
                leaves[ph][frames[0]] += 1
                total += 1
            frames = []
            continue
        parts = s.split()
        if len(parts) >= 2 and all(c in "0123456789abcdef" for c in parts[0]):
            sym = parts[1].split("+")[0]
            frames.append(sym)
    for name, _ in PHASES + [("the rest", ())]:
        print("| %s | %.1f%% | %d |" % (name, 100.0 * counts[name] / max(total, 1), counts[name]))
    print("samples: %d" % total)
    if "-v" in sys.argv:
        for name, c in leaves.items():
            print(name, c.most_common(8))


main()
