/*
 * xgb_mlp.c
 *	  The XGBoost-MLP hybrid: tree importance selects the features, an MLP
 *	  classifies on them (xgb_mlp.h).  Both stages are the existing cores;
 *	  this file only joins them, so the hybrid gets every property of its
 *	  stages (missing values, determinism, threads, interrupts) for free.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/sf_governance.h"
#include "scfrisk/metrics.h"
#include "scfrisk/sf_codec.h"
#include "scfrisk/xgb_mlp.h"

static const char *const importance_types[] = {
	"weight", "gain", "total_gain", "cover", "total_cover", NULL
};

static const char *const xgb_mlp_modes[] = {"stacked", "paper", "blend", NULL};
static const char *const xgb_mlp_auto[] = {"auto", NULL};

const double xgb_mlp_auto_thresholds[XGB_MLP_N_AUTO] = {0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1};

#define SPEC_XGB \
	{"xgb", SF_PT_OBJECT, offsetof(xgb_mlp_params, xgb), 0, 0, 0, 0, 0, NULL, &gbt_params_table, \
	"Stage I: the trees' params (xgb_train's names and defaults)"}
#define SPEC_MLP(table) \
	{"mlp", SF_PT_OBJECT, offsetof(xgb_mlp_params, mlp), 0, 0, 0, 0, 0, NULL, &(table), \
	"Stage II: the network's params (mlp_train's names and defaults)"}
#define SPEC_IMPORTANCE \
	{"importance_type", SF_PT_ENUM, offsetof(xgb_mlp_params, importance_type), GBT_IMP_GAIN, 0, 0, 0, 0, \
		importance_types, NULL, \
	"importance that ranks the features: weight, gain, total_gain, cover, total_cover"}
#define SPEC_THRESHOLD \
	{"threshold", SF_PT_DOUBLE, offsetof(xgb_mlp_params, threshold), 0.03, 0, 1, 0, 0, NULL, NULL, \
	"keep features whose normalised importance is at least this, or \"auto\""}
#define SPEC_THRESHOLD_AUTO \
	{"threshold", SF_PT_ENUM, offsetof(xgb_mlp_params, threshold_choice), 0, 0, 0, 0, 0, xgb_mlp_auto, NULL, \
	"\"auto\": choose the threshold by k-fold cross-validation on the training rows"}
#define SPEC_MODE \
	{"mode", SF_PT_ENUM, offsetof(xgb_mlp_params, mode), XGB_MLP_MODE_BLEND, 0, 0, 0, 0, xgb_mlp_modes, NULL, \
	"blend (a non-negative stacker over the trees, a forest, the network and a logistic regression), " \
	"stacked (the network also gets the trees' out-of-fold margin) or paper (0.1.0's pipeline)"}
#define SPEC_RF \
	{"rf", SF_PT_OBJECT, offsetof(xgb_mlp_params, rf), 0, 0, 0, 0, 0, NULL, &forest_params_table, \
	"blend: the random forest's params (rf_train's names and defaults)"}
#define SPEC_LOGREG \
	{"logreg", SF_PT_OBJECT, offsetof(xgb_mlp_params, logreg), 0, 0, 0, 0, 0, NULL, &logreg_params_table, \
	"blend: the logistic regression's params (logreg_train's names and defaults)"}
#define SPEC_FEATURE_NAMES \
	{"feature_names", SF_PT_STR_LIST, offsetof(xgb_mlp_params, feature_names), 0, 0, GBT_MAX_FEATURES, 0, 0, NULL, NULL, \
	"names of the features, one per element of the features array (or xgb.feature_names)"}
#define SPEC_VERBOSE \
	{"verbose", SF_PT_BOOL, offsetof(xgb_mlp_params, verbose), 0, 0, 1, 0, 0, NULL, NULL, \
	"NOTICE lines with the trees' rounds and the network's epochs, losses and time left", 1}
#define SPEC_FOLDS \
	{"folds", SF_PT_INT, offsetof(xgb_mlp_params, folds), 5, 2, XGB_MLP_MAX_FOLDS, 0, 0, NULL, NULL, \
	"folds of the out-of-fold margin and of threshold \"auto\""}

static const sf_param_spec xgb_mlp_specs[] = {
	SPEC_XGB, SPEC_MLP(mlp_params_table), SPEC_IMPORTANCE, SPEC_THRESHOLD, SPEC_MODE, SPEC_FOLDS,
	SPEC_RF, SPEC_LOGREG,
	SPEC_FEATURE_NAMES, SPEC_VERBOSE, SF_CALIB_PARAM_SPECS(xgb_mlp_params, calibrate, calibrate_folds)
};
static const sf_param_spec xgb_mlp_specs_auto[] = {
	SPEC_XGB, SPEC_MLP(mlp_params_table), SPEC_IMPORTANCE, SPEC_THRESHOLD_AUTO, SPEC_MODE, SPEC_FOLDS,
	SPEC_RF, SPEC_LOGREG,
	SPEC_FEATURE_NAMES, SPEC_VERBOSE, SF_CALIB_PARAM_SPECS(xgb_mlp_params, calibrate, calibrate_folds)
};
/* the tables before the blend: stacked models write their params (and bytes) as then */
static const sf_param_spec xgb_mlp_specs_stacked[] = {
	SPEC_XGB, SPEC_MLP(mlp_params_table), SPEC_IMPORTANCE, SPEC_THRESHOLD, SPEC_MODE, SPEC_FOLDS,
	SPEC_FEATURE_NAMES, SPEC_VERBOSE, SF_CALIB_PARAM_SPECS(xgb_mlp_params, calibrate, calibrate_folds)
};
static const sf_param_spec xgb_mlp_specs_stacked_auto[] = {
	SPEC_XGB, SPEC_MLP(mlp_params_table), SPEC_IMPORTANCE, SPEC_THRESHOLD_AUTO, SPEC_MODE, SPEC_FOLDS,
	SPEC_FEATURE_NAMES, SPEC_VERBOSE, SF_CALIB_PARAM_SPECS(xgb_mlp_params, calibrate, calibrate_folds)
};
/* 0.1.0's table: the paper mode writes the params JSON (and so the bytes) 0.1.0 wrote */
static const sf_param_spec xgb_mlp_specs_v1[] = {
	SPEC_XGB, SPEC_MLP(mlp_params_table_v1), SPEC_IMPORTANCE, SPEC_THRESHOLD
};

#define N_SPECS(a) ((int) (sizeof(a) / sizeof((a)[0])))

const sf_param_table xgb_mlp_params_table = {
	"xgb_mlp_train", xgb_mlp_specs, N_SPECS(xgb_mlp_specs), NULL
};
const sf_param_table xgb_mlp_params_table_auto = {
	"xgb_mlp_train", xgb_mlp_specs_auto, N_SPECS(xgb_mlp_specs_auto), NULL
};
const sf_param_table xgb_mlp_params_table_stacked = {
	"xgb_mlp_train", xgb_mlp_specs_stacked, N_SPECS(xgb_mlp_specs_stacked), NULL
};
const sf_param_table xgb_mlp_params_table_stacked_auto = {
	"xgb_mlp_train", xgb_mlp_specs_stacked_auto, N_SPECS(xgb_mlp_specs_stacked_auto), NULL
};
const sf_param_table xgb_mlp_params_table_v1 = {
	"xgb_mlp_train", xgb_mlp_specs_v1, N_SPECS(xgb_mlp_specs_v1), NULL
};

sf_status
xgb_mlp_params_check(sf_env *env, const xgb_mlp_params *p)
{
	sf_status	st;

	if (p->xgb.objective != GBT_OBJ_BINARY)
		return sf_fail(env, SF_EINVAL, "xgb.objective must be binary:logistic: the hybrid classifies default");
	if (p->mlp.objective != MLP_OBJ_BINARY)
		return sf_fail(env, SF_EINVAL, "mlp.objective must be binary:logistic: the hybrid classifies default");
	/*
	 * The hybrid scores with its MLP, which keeps no monotonicity: constrained
	 * trees would only rank features, and the model would look monotone when
	 * it is not.  Refused, so a scorecard that needs monotonicity uses xgb_train.
	 */
	if (p->xgb.monotone_constraints.n > 0)
		return sf_fail(env, SF_EINVAL,
					   "xgb.monotone_constraints is not supported: the hybrid scores with its MLP, "
					   "which is not monotone; train with xgb_train for a monotone model");
	if ((st = gbt_params_check(env, &p->xgb)) != SF_OK)
		return st;
	if (p->mode == XGB_MLP_MODE_BLEND && p->rf.objective != FOREST_OBJ_BINARY)
		return sf_fail(env, SF_EINVAL, "rf.objective must be binary: the hybrid classifies default");
	if (p->mode == XGB_MLP_MODE_BLEND && p->rf.monotone_constraints.n > 0)
		return sf_fail(env, SF_EINVAL,
					   "rf.monotone_constraints is not supported: the blend also scores with its MLP, "
					   "which is not monotone; train with rf_train for a monotone model");
	if (p->mlp.feature_names.n > 0)
		return sf_fail(env, SF_EINVAL,
					   "mlp.feature_names is not used: give feature_names at the top level (one per feature)");
	if (p->feature_names.n > 0 && p->xgb.feature_names.n > 0)
	{
		int			j,
					same = p->feature_names.n == p->xgb.feature_names.n;

		for (j = 0; same && j < p->feature_names.n; j++)
			same = strcmp(p->feature_names.v[j], p->xgb.feature_names.v[j]) == 0;
		if (!same)
			return sf_fail(env, SF_EINVAL, "feature_names and xgb.feature_names differ: give one of them");
	}
	return mlp_params_check(env, &p->mlp);
}

/* ------------------------------------------------------------ training */

/* The features whose normalised importance reaches t, increasing, into sel; returns how many. */
static uint32_t
select_list(const double *importance, uint32_t d, double t, uint32_t *sel)
{
	uint32_t	j,
				k = 0;

	/*
	 * A comparison with a tiny relative slack would make the selection depend
	 * on rounding; the paper's rule is a plain >=.
	 */
	for (j = 0; j < d; j++)
		if (importance[j] >= t && importance[j] > 0.0)
		{
			if (sel)
				sel[k] = j;
			k++;
		}
	return k;
}

/* The selection of m at threshold t (m->selected allocated). */
static sf_status
select_features(sf_env *env, xgb_mlp_model *m, double threshold)
{
	uint32_t	j,
				k = select_list(m->importance, m->n_features, threshold, NULL);
	int			extra = m->mode == XGB_MLP_MODE_STACKED;
	double		best = 0.0;

	for (j = 0; j < m->n_features; j++)
		if (m->importance[j] > best)
			best = m->importance[j];
	if (k == 0)
		return sf_fail(env, SF_EDATA,
					   "no feature reaches the importance threshold %g (the largest normalised importance is %g)",
					   threshold, best);
	if (k + extra > NN_MAX_UNITS)
		return sf_fail(env, SF_EDATA,
					   "%u features reach the importance threshold %g, more than the %d an MLP accepts; raise the threshold",
					   k, threshold, NN_MAX_UNITS - extra);
	m->selected = sf_malloc(env, sizeof(uint32_t) * k);
	if (m->selected == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory selecting features");
	m->n_selected = select_list(m->importance, m->n_features, threshold, m->selected);
	return SF_OK;
}

sf_status
xgb_mlp_folds(sf_env *env, const double *y, size_t n, int k, uint64_t seed, uint8_t *fold)
{
	sf_rng		rng;
	uint32_t   *perm = sf_malloc(env, sizeof(uint32_t) * (n ? n : 1));
	size_t		i,
				cnt[2] = {0, 0};

	if (perm == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory assigning %zu rows to folds", n);
	for (i = 0; i < n; i++)
		perm[i] = (uint32_t) i;
	sf_rng_init(&rng, seed, 11);
	sf_rng_shuffle_u32(&rng, perm, (uint32_t) n);
	for (i = 0; i < n; i++)
	{
		int			c = y[perm[i]] == 1.0;

		fold[perm[i]] = (uint8_t) (cnt[c]++ % (size_t) k);
	}
	sf_free(env, perm);
	return SF_OK;
}

sf_status
xgb_mlp_oof_margin(sf_env *env, const gbt_params *p, const double *x, const double *y,
				   size_t n, uint32_t d, int k, const uint8_t *fold, double *margin)
{
	gbt_params	q = *p;
	double	   *xt = sf_malloc(env, sizeof(double) * n * d);
	double	   *yt = sf_malloc(env, sizeof(double) * n);
	sf_status	st = SF_OK;
	size_t		i;
	int			f;

	q.progress = NULL;			/* Stage I reports its own trees, not these */
	if (xt == NULL || yt == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for the out-of-fold margin");
		goto done;
	}
	for (f = 0; f < k && st == SF_OK; f++)
	{
		gbt_model  *g = NULL;
		size_t		nt = 0;

		for (i = 0; i < n; i++)
			if (fold[i] != f)
			{
				memcpy(xt + nt * d, x + i * d, sizeof(double) * d);
				yt[nt++] = y[i];
			}
		if ((st = gbt_train(env, xt, yt, NULL, nt, d, &q, &g)) != SF_OK)
			break;
		for (i = 0; i < n; i++)
			if (fold[i] == f)
				margin[i] = gbt_predict_margin(g, x + i * d);
		gbt_model_free(env, g);
	}
done:
	sf_free(env, xt);
	sf_free(env, yt);
	return st;
}

/* The network's input rows: the k selected columns of x, then the margin when given. */
static void
gather(const double *x, size_t n, uint32_t d, const uint32_t *sel, uint32_t k,
	   const double *margin, double *out)
{
	uint32_t	w = k + (margin != NULL);
	size_t		i;
	uint32_t	j;

	for (i = 0; i < n; i++)
	{
		for (j = 0; j < k; j++)
			out[i * w + j] = x[i * d + sel[j]];
		if (margin)
			out[i * w + k] = margin[i];
	}
}

/*
 * Out-of-fold AUC of the network on the input rows xs (n, w) over the
 * folds; scratch xt (n, w), yt (n), oof (n).
 */
static sf_status
cv_auc(sf_env *env, const mlp_params *p, const double *xs, const double *y, size_t n,
	   uint32_t w, int k, const uint8_t *fold, double *xt, double *yt, double *oof, double *auc)
{
	metrics_binary_result r;
	sf_status	st;
	size_t		i;
	int			f;

	for (f = 0; f < k; f++)
	{
		mlp_model	net;
		size_t		nt = 0;

		for (i = 0; i < n; i++)
			if (fold[i] != f)
			{
				memcpy(xt + nt * w, xs + i * w, sizeof(double) * w);
				yt[nt++] = y[i];
			}
		if ((st = mlp_fit(env, p, xt, yt, nt, (int) w, &net)) != SF_OK)
			return st;
		for (i = 0; i < n; i++)
			if (fold[i] == f)
				oof[i] = mlp_predict(&net, xs + i * w);
		mlp_free(env, &net);
	}
	if ((st = metrics_binary(env, y, oof, n, 0.5, &r)) != SF_OK)
		return st;
	*auc = r.has_ranking ? r.auc : 0.5;
	return SF_OK;
}

/*
 * "auto": the threshold of xgb_mlp_auto_thresholds whose selection gives the
 * best out-of-fold AUC of the network (ties: the larger threshold, fewer
 * features).  Thresholds keeping no feature, or the same features as the
 * previous one, are not trained again.
 */
static sf_status
choose_threshold(sf_env *env, const xgb_mlp_params *p, xgb_mlp_model *m, const double *x,
				 const double *y, size_t n, const uint8_t *fold, const double *margin,
				 double *chosen)
{
	uint32_t	d = m->n_features;
	uint32_t   *sel = sf_malloc(env, sizeof(uint32_t) * d);
	double	   *xs = sf_malloc(env, sizeof(double) * n * (d + 1));
	double	   *xt = sf_malloc(env, sizeof(double) * n * (d + 1));
	double	   *yt = sf_malloc(env, sizeof(double) * n);
	double	   *oof = sf_malloc(env, sizeof(double) * n);
	double		best = -1.0;
	uint32_t	prev_k = 0;
	sf_status	st = SF_OK;
	int			c;

	if (!sel || !xs || !xt || !yt || !oof)
		st = sf_fail(env, SF_ENOMEM, "out of memory choosing the threshold");
	for (c = 0; c < XGB_MLP_N_AUTO && st == SF_OK; c++)
	{
		double		t = xgb_mlp_auto_thresholds[c];
		uint32_t	k = select_list(m->importance, d, t, sel);
		double		auc;

		m->auto_auc[c] = NAN;
		if (k == 0 || k + 1 > NN_MAX_UNITS)
			continue;
		if (k == prev_k)
			auc = m->auto_auc[c - 1];	/* the same features as the previous threshold */
		else
		{
			gather(x, n, d, sel, k, margin, xs);
			st = cv_auc(env, &p->mlp, xs, y, n, k + (margin != NULL), p->folds, fold, xt, yt,
						oof, &auc);
		}
		prev_k = k;
		m->auto_auc[c] = auc;
		if (st == SF_OK && auc >= best)
		{
			best = auc;
			*chosen = t;
		}
	}
	if (st == SF_OK && best < 0.0)
		st = sf_fail(env, SF_EDATA, "no candidate threshold keeps a feature (all importances are 0)");
	sf_free_all(env, sel, xs, xt, yt, oof);
	return st;
}

/* Every class needs a row in each fold's training part and its held-out part. */
static sf_status
check_folds(sf_env *env, const double *y, size_t n, int k)
{
	size_t		pos = 0,
				i;

	for (i = 0; i < n; i++)
		pos += y[i] == 1.0;
	if (pos < (size_t) k || n - pos < (size_t) k)
		return sf_fail(env, SF_EDATA,
					   "%d folds need at least %d rows of each class, the training data has %zu defaults and %zu non-defaults; lower \"folds\" or use \"mode\": \"paper\" with a number threshold",
					   k, k, pos, n - pos);
	return SF_OK;
}

/* Blend mode: the parts' out-of-fold margins, the stacker's weights, the final parts. */
static sf_status
fit_blend(sf_env *env, const xgb_mlp_params *p, xgb_mlp_model *m, const double *x,
		  const double *y, size_t n, uint32_t d, const uint8_t *fold)
{
	double	   *z = sf_malloc(env, sizeof(double) * n * XGB_MLP_N_PARTS);
	sf_status	st;

	if (z == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the blend's out-of-fold margins");
	if ((st = xgb_mlp_blend_oof(env, p, m, x, y, n, d, fold, z)) == SF_OK &&
		(st = xgb_mlp_blend_choose(env, z, y, n, XGB_MLP_N_PARTS, fold, m)) == SF_OK)
		st = xgb_mlp_blend_fit_parts(env, p, x, y, n, d, m);
	sf_free(env, z);
	return st;
}

sf_status
xgb_mlp_fit(sf_env *env, const xgb_mlp_params *p, const double *x, const double *y,
			size_t n, uint32_t d, xgb_mlp_model *out)
{
	sf_status	st;
	double	   *xs = NULL,
			   *margin = NULL;
	uint8_t    *fold = NULL;
	double		threshold = p->threshold;
	int			stacked = p->mode == XGB_MLP_MODE_STACKED;
	int			blend = p->mode == XGB_MLP_MODE_BLEND;
	int			c;

	memset(out, 0, sizeof(*out));
	if ((st = xgb_mlp_params_check(env, p)) != SF_OK)
		return st;
	out->n_features = d;
	out->importance_type = p->importance_type;
	out->mode = p->mode;
	out->folds = p->folds;
	out->threshold_auto = p->threshold_auto;
	for (c = 0; c < XGB_MLP_N_AUTO; c++)
		out->auto_auc[c] = NAN;

	/* Stage I: trees on every feature, then the ranking. */
	if ((st = gbt_train(env, x, y, NULL, n, d, &p->xgb, &out->trees)) != SF_OK)
		goto fail;
	out->importance = sf_malloc(env, sizeof(double) * d);
	if (out->importance == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory ranking features");
		goto fail;
	}
	if ((st = gbt_importance(out->trees, (gbt_importance_type) p->importance_type,
							 out->importance)) != SF_OK)
		goto fail;
	gbt_importance_normalize(out->importance, d, out->importance);

	/* the folds, the out-of-fold margin, the threshold */
	if (stacked || blend || p->threshold_auto)
	{
		if ((st = check_folds(env, y, n, p->folds)) != SF_OK)
			goto fail;
		fold = sf_malloc(env, n);
		if (fold == NULL)
		{
			st = sf_fail(env, SF_ENOMEM, "out of memory assigning rows to folds");
			goto fail;
		}
		if ((st = xgb_mlp_folds(env, y, n, p->folds, (uint64_t) p->mlp.seed, fold)) != SF_OK)
			goto fail;
	}
	if (stacked)
	{
		margin = sf_malloc(env, sizeof(double) * n);
		if (margin == NULL)
		{
			st = sf_fail(env, SF_ENOMEM, "out of memory for the out-of-fold margin");
			goto fail;
		}
		if ((st = xgb_mlp_oof_margin(env, &p->xgb, x, y, n, d, p->folds, fold, margin)) != SF_OK)
			goto fail;
	}
	if (p->threshold_auto &&
		(st = choose_threshold(env, p, out, x, y, n, fold, margin, &threshold)) != SF_OK)
		goto fail;
	out->threshold = threshold;
	if ((st = select_features(env, out, threshold)) != SF_OK)
		goto fail;

	/* Stage II: the network on the kept columns (and the margin). */
	xs = sf_malloc(env, sizeof(double) * n * (out->n_selected + stacked));
	if (xs == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory gathering the selected features");
		goto fail;
	}
	gather(x, n, d, out->selected, out->n_selected, margin, xs);
	if ((st = mlp_fit(env, &p->mlp, xs, y, n, (int) (out->n_selected + stacked), &out->mlp)) != SF_OK)
		goto fail;
	if (blend && (st = fit_blend(env, p, out, x, y, n, d, fold)) != SF_OK)
		goto fail;
	sf_free_all(env, xs, margin, fold);
	return SF_OK;

fail:
	sf_free_all(env, xs, margin, fold);
	xgb_mlp_free(env, out);
	return st;
}

void
xgb_mlp_free(sf_env *env, xgb_mlp_model *m)
{
	if (m->trees)
		gbt_model_free(env, m->trees);
	mlp_free(env, &m->mlp);		/* idempotent: safe on a partly built model */
	xgb_mlp_blend_free(env, m);
	sf_free(env, m->importance);
	sf_free(env, m->selected);
	memset(m, 0, sizeof(*m));
}

/* The network's input of one row: the selected features, then in stacked mode the trees' margin. */
static void
network_input(const xgb_mlp_model *m, const double *x, double *xs)
{
	uint32_t	j;

	for (j = 0; j < m->n_selected; j++)
		xs[j] = x[m->selected[j]];
	if (m->mode == XGB_MLP_MODE_STACKED)
		xs[m->n_selected] = gbt_predict_margin(m->trees, x);
}

/* The blend's margin: the stacker's intercept plus the weighted margins of its parts. */
static double
blend_margin(const xgb_mlp_model *m, const double *x)
{
	double		part[XGB_MLP_N_PARTS],
				s = m->blend_intercept;
	int			j;

	xgb_mlp_blend_parts(m, x, part);
	for (j = 0; j < XGB_MLP_N_PARTS; j++)
		s += m->blend_w[j] * part[j];
	return s;
}

double
xgb_mlp_predict(const xgb_mlp_model *m, const double *x)
{
	double		xs[NN_MAX_UNITS];

	if (m->mode == XGB_MLP_MODE_BLEND)
		return 1.0 / (1.0 + exp(-blend_margin(m, x)));
	network_input(m, x, xs);
	return mlp_predict(&m->mlp, xs);
}

double
xgb_mlp_predict_margin(const xgb_mlp_model *m, const double *x)
{
	double		xs[NN_MAX_UNITS];

	if (m->mode == XGB_MLP_MODE_BLEND)
		return blend_margin(m, x);
	network_input(m, x, xs);
	return mlp_predict_margin(&m->mlp, xs);
}

/* ------------------------------------------------------------ bytes */

static void
put_text(sf_buf *b, const char *s)
{
	sf_buf_put_bytes(b, s, strlen(s));
}

/*
 * The selection and the trees' info, shared by the two JSON forms; with
 * diagnostics, also the cross-validated AUC of "auto" (training-time figures
 * the body does not hold, so the body's form leaves them out).
 */
static void
put_selection_and_trees(const xgb_mlp_model *m, sf_buf *b, bool diagnostics)
{
	char		t[64];
	uint32_t	j;

	put_text(b, "{\"importance_type\": \"");
	put_text(b, importance_types[m->importance_type]);
	snprintf(t, sizeof(t), "\", \"threshold\": %.17g, \"selected\": [", m->threshold);
	put_text(b, t);
	for (j = 0; j < m->n_selected; j++)
	{
		/* 1-based, as SQL arrays and xgb_select count features */
		snprintf(t, sizeof(t), "%s%u", j ? ", " : "", m->selected[j] + 1);
		put_text(b, t);
	}
	put_text(b, "], \"importance\": [");
	for (j = 0; j < m->n_features; j++)
	{
		snprintf(t, sizeof(t), "%s%.17g", j ? ", " : "", m->importance[j]);
		put_text(b, t);
	}
	put_text(b, "]");
	/* a paper-mode model without "auto" keeps 0.1.0's diagnostics, byte for byte */
	if (m->mode != XGB_MLP_MODE_PAPER || m->threshold_auto)
	{
		put_text(b, ", \"mode\": \"");
		put_text(b, xgb_mlp_modes[m->mode]);
		snprintf(t, sizeof(t), "\", \"folds\": %d, \"threshold_auto\": %s", m->folds,
				 m->threshold_auto ? "true" : "false");
		put_text(b, t);
	}
	if (m->threshold_auto && diagnostics)
	{
		put_text(b, ", \"auto_auc\": {");
		for (j = 0; j < XGB_MLP_N_AUTO; j++)
		{
			snprintf(t, sizeof(t), "%s\"%g\": ", j ? ", " : "", xgb_mlp_auto_thresholds[j]);
			put_text(b, t);
			if (isfinite(m->auto_auc[j]))
				snprintf(t, sizeof(t), "%.17g", m->auto_auc[j]);
			else
				snprintf(t, sizeof(t), "null");
			put_text(b, t);
		}
		put_text(b, "}");
	}
	if (m->mode == XGB_MLP_MODE_BLEND)
		xgb_mlp_blend_json(m, b, diagnostics);
	put_text(b, ", \"xgb\": ");
	gbt_info_json(m->trees, b);
}

/* The info section's JSON, or (info false) the fields the body determines of it. */
static void
put_json(const xgb_mlp_model *m, sf_buf *b, bool info)
{
	put_selection_and_trees(m, b, info);
	put_text(b, ", \"mlp\": ");
	if (info)
		mlp_info_json(&m->mlp, b);
	else
		mlp_body_json(&m->mlp, b);
	/* the MLP scores: no monotone constraint holds (docs/governance.md) */
	put_text(b, info ? ", \"monotone\": false}" : "}");
}

void
xgb_mlp_info_json(const xgb_mlp_model *m, sf_buf *b)
{
	put_json(m, b, true);
}

void
xgb_mlp_body_json(const xgb_mlp_model *m, sf_buf *b)
{
	put_json(m, b, false);
}

/* Selection section: u8 importance type, f64 threshold, u32 k, k x u32 index, d x f64 importance. */
static void
encode_select(const xgb_mlp_model *m, sf_buf *b)
{
	size_t		mark = sf_section_begin(b, XGB_MLP_TAG_SELECT);
	uint32_t	j;

	sf_buf_put_u8(b, (uint8_t) m->importance_type);
	sf_buf_put_f64(b, m->threshold);
	sf_buf_put_u32(b, m->n_selected);
	for (j = 0; j < m->n_selected; j++)
		sf_buf_put_u32(b, m->selected[j]);
	sf_buf_put_f64s(b, m->importance, m->n_features);
	sf_section_end(b, mark);
}

/*
 * The table the params JSON is written with: 0.1.0's keys for a paper-mode
 * model that uses none of the later keys (its bytes are then 0.1.0's), the
 * "auto" view for "threshold": "auto", else the full table.
 */
static const sf_param_table *
params_table_of(const xgb_mlp_params *p)
{
	if (p->mode == XGB_MLP_MODE_BLEND)
		return p->threshold_auto ? &xgb_mlp_params_table_auto : &xgb_mlp_params_table;
	if (p->threshold_auto)
		return &xgb_mlp_params_table_stacked_auto;
	if (p->mode == XGB_MLP_MODE_PAPER && !p->mlp.linear_skip && !p->mlp.refit && p->folds == 5)
		return &xgb_mlp_params_table_v1;
	return &xgb_mlp_params_table_stacked;
}

sf_status
xgb_mlp_encode(sf_env *env, const xgb_mlp_model *m, const xgb_mlp_params *p,
			   const char *const *names, uint64_t rows, sf_buf *b)
{
	size_t		mark;
	sf_prelude	pre = {.params_table = params_table_of(p), .params = p, .names = names,
		.rows = rows, .has_seed = true, .seed = (uint64_t) p->xgb.seed};

	sf_prelude_put(b, SF_KIND_XGB_MLP, m->n_features, &pre);
	mark = sf_section_begin(b, SF_TAG_INFO);
	xgb_mlp_info_json(m, b);
	sf_section_end(b, mark);
	encode_select(m, b);
	gbt_encode_body(m->trees, b, XGB_MLP_TAG_GBT);
	mlp_encode_body(&m->mlp, b, XGB_MLP_TAG_MLP);
	if (m->mode != XGB_MLP_MODE_PAPER || m->threshold_auto)
	{
		/* stack: u8 mode, u32 folds, u8 threshold_auto (absent: paper, a number threshold) */
		mark = sf_section_begin(b, XGB_MLP_TAG_STACK);
		sf_buf_put_u8(b, (uint8_t) m->mode);
		sf_buf_put_u32(b, (uint32_t) m->folds);
		sf_buf_put_u8(b, (uint8_t) m->threshold_auto);
		sf_section_end(b, mark);
	}
	if (m->mode == XGB_MLP_MODE_BLEND)
		xgb_mlp_blend_encode(m, b);
	return sf_container_finish(b);
}

static sf_status
decode_select(sf_env *env, const sf_container *c, xgb_mlp_model *m)
{
	const sf_section *s = sf_container_find(c, XGB_MLP_TAG_SELECT);
	sf_reader	r;
	uint32_t	j,
				k;
	uint8_t		type;
	double		sum = 0.0;

	if (s == NULL)
		return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: selection section missing");
	sf_reader_init(&r, s->data, s->len);
	type = sf_read_u8(&r);
	m->threshold = sf_read_f64(&r);
	k = sf_read_u32(&r);
	if (!sf_reader_ok(&r) || type > GBT_IMP_TOTAL_COVER || !(m->threshold >= 0.0 && m->threshold <= 1.0) ||
		k < 1 || k > m->n_features || k > NN_MAX_UNITS ||
		sf_reader_left(&r) != (size_t) k * 4 + (size_t) m->n_features * 8)
		return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: bad selection section");
	m->importance_type = type;
	m->selected = sf_malloc(env, sizeof(uint32_t) * k);
	m->importance = sf_malloc(env, sizeof(double) * m->n_features);
	if (m->selected == NULL || m->importance == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding an xgb_mlp model");
	m->n_selected = k;
	for (j = 0; j < k; j++)
	{
		m->selected[j] = sf_read_u32(&r);
		if (m->selected[j] >= m->n_features || (j > 0 && m->selected[j] <= m->selected[j - 1]))
			return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: selected feature indices out of order or range");
	}
	sf_read_f64s(&r, m->importance, m->n_features);
	for (j = 0; j < m->n_features; j++)
	{
		if (!(m->importance[j] >= 0.0 && m->importance[j] <= 1.0))
			return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: importance of feature %u out of [0, 1]", j + 1);
		sum += m->importance[j];
	}
	if (fabs(sum - 1.0) > 1e-9)
		return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: importances do not sum to 1");
	return SF_OK;
}

/* The optional stack section; without it a paper-mode model with a number threshold. */
static sf_status
decode_stack(sf_env *env, const sf_container *c, xgb_mlp_model *m)
{
	const sf_section *s = sf_container_find(c, XGB_MLP_TAG_STACK);
	sf_reader	r;
	int			j;

	m->mode = XGB_MLP_MODE_PAPER;
	m->folds = 5;
	for (j = 0; j < XGB_MLP_N_AUTO; j++)
		m->auto_auc[j] = NAN;
	if (s == NULL)
		return SF_OK;
	sf_reader_init(&r, s->data, s->len);
	m->mode = sf_read_u8(&r);
	m->folds = (int) sf_read_u32(&r);
	m->threshold_auto = sf_read_u8(&r);
	if (!sf_reader_ok(&r) || sf_reader_left(&r) != 0 || m->mode > XGB_MLP_MODE_BLEND ||
		m->folds < 2 || m->folds > XGB_MLP_MAX_FOLDS || m->threshold_auto > 1 ||
		(m->mode == XGB_MLP_MODE_PAPER && !m->threshold_auto) ||
		(m->mode == XGB_MLP_MODE_STACKED && m->n_selected + 1 > NN_MAX_UNITS))
		return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: bad stack section");
	return SF_OK;
}

sf_status
xgb_mlp_decode(sf_env *env, const uint8_t *buf, size_t len, xgb_mlp_model *m)
{
	sf_container c;
	sf_status	st;

	memset(m, 0, sizeof(*m));
	if ((st = sf_container_decode_kind(env, buf, len, SF_KIND_XGB_MLP, &c)) != SF_OK)
		return st;
	if (c.n_features < 1)
		return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: no features");
	m->n_features = c.n_features;
	if ((st = decode_select(env, &c, m)) != SF_OK)
		goto fail;
	m->trees = sf_calloc(env, 1, sizeof(gbt_model));
	if (m->trees == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory decoding an xgb_mlp model");
		goto fail;
	}
	if ((st = gbt_decode_body(env, &c, XGB_MLP_TAG_GBT, c.n_features, m->trees)) != SF_OK)
	{
		sf_free(env, m->trees);
		m->trees = NULL;
		goto fail;
	}
	if ((st = decode_stack(env, &c, m)) != SF_OK)
		goto fail;
	if ((st = mlp_decode_body(env, &c, XGB_MLP_TAG_MLP, m->n_selected + (m->mode == XGB_MLP_MODE_STACKED),
							  &m->mlp)) != SF_OK)
		goto fail;
	if (m->mlp.objective != MLP_OBJ_BINARY || m->trees->objective != GBT_OBJ_BINARY)
	{
		st = sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: a stage is not a binary classifier");
		goto fail;
	}
	if ((st = xgb_mlp_blend_decode(env, &c, m)) != SF_OK)
		goto fail;
	return SF_OK;

fail:
	xgb_mlp_free(env, m);
	return st;
}
