/*
 * gbt_metric.c
 *	  Evaluation metrics of the boosting log and of early stopping: weighted
 *	  log-loss (probabilities clipped to [1e-16, 1 - 1e-16], as XGBoost),
 *	  weighted RMSE, and weighted ROC AUC with tied scores counted half
 *	  (midranks).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gbt_int.h"


const char *
gbt_metric_name(int metric)
{
	switch (metric)
	{
		case GBT_METRIC_LOGLOSS:
			return "logloss";
		case GBT_METRIC_AUC:
			return "auc";
		case GBT_METRIC_RMSE:
			return "rmse";
	}
	return "auto";
}

typedef struct auc_item
{
	double		s;
	double		y;
	double		w;
} auc_item;

static int
cmp_auc(const void *a, const void *b)
{
	double		x = ((const auc_item *) a)->s,
				y = ((const auc_item *) b)->s;

	return (x > y) - (x < y);
}

sf_status
gbt_metric_eval(sf_env *env, int metric, int objective, const double *margin, const double *y,
				const double *w, const uint32_t *rows, size_t n, double *out)
{
	size_t		i;
	double		sw = 0.0,
				acc = 0.0;

	if (n == 0)
	{
		*out = NAN;
		return SF_OK;
	}
	if (metric == GBT_METRIC_AUC)
	{
		auc_item   *it = sf_malloc(env, sizeof(auc_item) * n);
		double		pos = 0.0,
					neg = 0.0,
					area = 0.0,
					cneg = 0.0;
		size_t		k;

		if (it == NULL)
			return sf_fail(env, SF_ENOMEM, "out of memory computing the auc");
		for (i = 0; i < n; i++)
		{
			size_t		r = rows ? rows[i] : i;

			it[i].s = margin[r];
			it[i].y = y[r];
			it[i].w = w ? w[r] : 1.0;
		}
		qsort(it, n, sizeof(auc_item), cmp_auc);
		/* ascending scores; tied groups count half (midranks) */
		for (i = 0; i < n; i = k)
		{
			double		gp = 0.0,
						gn = 0.0;

			for (k = i; k < n && it[k].s == it[i].s; k++)
			{
				if (it[k].y > 0.5)
					gp += it[k].w;
				else
					gn += it[k].w;
			}
			area += gp * (cneg + 0.5 * gn);
			cneg += gn;
			pos += gp;
			neg += gn;
		}
		sf_free(env, it);
		*out = (pos > 0.0 && neg > 0.0) ? area / (pos * neg) : NAN;
		return SF_OK;
	}
	for (i = 0; i < n; i++)
	{
		size_t		r = rows ? rows[i] : i;
		double		wi = w ? w[r] : 1.0;
		double		m = margin[r];

		if (metric == GBT_METRIC_LOGLOSS)
		{
			double		p = 1.0 / (1.0 + exp(-m));

			if (p < 1e-16)
				p = 1e-16;
			if (p > 1.0 - 1e-16)
				p = 1.0 - 1e-16;
			acc -= wi * (y[r] > 0.5 ? log(p) : log(1.0 - p));
		}
		else
		{
			double		pr = objective == GBT_OBJ_BINARY ? 1.0 / (1.0 + exp(-m)) : m;

			acc += wi * (pr - y[r]) * (pr - y[r]);
		}
		sw += wi;
	}
	if (sw <= 0.0)
		*out = NAN;
	else
		*out = metric == GBT_METRIC_RMSE ? sqrt(acc / sw) : acc / sw;
	return SF_OK;
}

