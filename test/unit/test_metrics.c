/*
 * test_metrics.c
 *	  Unit tests of the binary metrics on hand-computed cases: a small set
 *	  with ties (AUC by midranks, KS), the confusion-matrix ratios and MCC,
 *	  the zero-division conventions, ROC points and threshold counts.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/metrics.h"
#include "sf_test.h"

static sf_env env;

SF_TEST(test_hand_case)
{
	/* scores with a tie between a positive and a negative at 0.5 */
	double		y[6] = {1, 0, 1, 0, 1, 0};
	double		s[6] = {0.9, 0.5, 0.5, 0.2, 0.7, 0.1};
	metrics_binary_result r;

	SF_OK(metrics_binary(&env, y, s, 6, 0.5, &r) == SF_OK, "metrics");
	/* predicted positive: 0.9, 0.5, 0.5, 0.7 -> tp 3, fp 1, tn 2, fn 0 */
	SF_OK(r.tp == 3 && r.fp == 1 && r.tn == 2 && r.fn == 0, "confusion matrix");
	SF_NEAR(r.accuracy, 5.0 / 6, 1e-15, "accuracy");
	SF_NEAR(r.precision, 0.75, 1e-15, "precision tp/(tp+fp)");
	SF_NEAR(r.recall, 1.0, 1e-15, "recall");
	SF_NEAR(r.type1_error, 0.0, 1e-15, "type I error fn/(tp+fn)");
	SF_NEAR(r.type2_error, 1.0 / 3, 1e-15, "type II error fp/(tn+fp)");
	SF_NEAR(r.f1, 6.0 / 7, 1e-15, "f1");
	SF_NEAR(r.mcc, (3.0 * 2 - 0) / sqrt(4.0 * 3 * 3 * 2), 1e-15, "mcc");
	/* pairs (pos, neg): 9 pairs, the tied pair counts 1/2: 8.5 / 9 */
	SF_NEAR(r.auc, 8.5 / 9, 1e-15, "auc with a tie by midranks");
	SF_NEAR(r.gini, 2 * 8.5 / 9 - 1, 1e-15, "gini");
	/* KS: after 0.9, 0.7 (tpr 2/3, fpr 0); after 0.5 (1, 1/3) -> 2/3 */
	SF_NEAR(r.ks, 2.0 / 3, 1e-15, "ks");
	SF_NEAR(r.brier, (0.01 + 0.25 + 0.25 + 0.04 + 0.09 + 0.01) / 6, 1e-15, "brier");
	SF_NEAR(r.logloss, -(log(0.9) + log(0.5) + log(0.5) + log(0.8) + log(0.7) + log(0.9)) / 6, 1e-14, "logloss");
}

SF_TEST(test_edge_cases)
{
	double		y[3] = {0, 0, 0},
				s[3] = {0.1, 0.2, 2.0};
	metrics_binary_result r;
	double	   *thr,
			   *fpr,
			   *tpr;
	size_t		n;

	SF_OK(metrics_binary(&env, y, s, 3, 0.5, &r) == SF_OK, "one class still gives the confusion matrix");
	SF_OK(!r.has_ranking && !r.has_prob, "auc undefined with one class, brier undefined with score 2");
	SF_OK(r.mcc == 0 && r.precision == 0 && r.recall == 0, "zero-division conventions");
	SF_OK(metrics_roc(&env, y, s, 3, &thr, &fpr, &tpr, &n) == SF_EDATA, "roc needs both classes: %s", env.msg);
	y[1] = 2;
	SF_OK(metrics_binary(&env, y, s, 3, 0.5, &r) == SF_EDATA, "label 2 rejected: %s", env.msg);
	SF_OK(metrics_binary(&env, y, s, 0, 0.5, &r) == SF_EDATA, "no rows: %s", env.msg);
}

SF_TEST(test_roc_and_thresholds)
{
	double		y[6] = {1, 0, 1, 0, 1, 0};
	double		s[6] = {0.9, 0.5, 0.5, 0.2, 0.7, 0.1};
	double		t[3] = {0.0, 0.5, 1.0};
	double		tp[3],
				fp[3],
				tn[3],
				fn[3];
	double	   *thr,
			   *fpr,
			   *tpr,
				area = 0;
	size_t		n,
				k;

	SF_OK(metrics_roc(&env, y, s, 6, &thr, &fpr, &tpr, &n) == SF_OK, "roc");
	SF_OK(n == 6 && isinf(thr[0]) && thr[1] == 0.9 && thr[5] == 0.1, "one point per distinct score plus the origin (%zu)", n);
	for (k = 1; k < n; k++)
		area += (fpr[k] - fpr[k - 1]) * (tpr[k] + tpr[k - 1]) / 2;
	SF_NEAR(area, 8.5 / 9, 1e-15, "trapezoid area equals the midrank auc");
	SF_OK(fpr[n - 1] == 1 && tpr[n - 1] == 1, "curve ends at (1, 1)");
	sf_free(&env, thr);
	sf_free(&env, fpr);
	sf_free(&env, tpr);
	SF_OK(metrics_confusion_at(&env, y, s, 6, t, 3, tp, fp, tn, fn) == SF_OK, "threshold counts");
	SF_OK(tp[0] == 3 && fp[0] == 3 && tp[1] == 3 && fp[1] == 1 && tp[2] == 0 && tn[2] == 3 && fn[2] == 3,
		  "counts at 0, 0.5, 1");
}

int
main(void)
{
	sf_env_init_malloc(&env);
	SF_RUN(test_hand_case);
	SF_RUN(test_edge_cases);
	SF_RUN(test_roc_and_thresholds);
	return sf_test_done();
}
