/*
 * xgb_mlp_blend.c
 *	  The blend mode of the XGBoost-MLP hybrid (xgb_mlp.h): stacked
 *	  generalisation (Wolpert 1992) with non-negative weights (Breiman 1996,
 *	  "Stacked regressions") over four parts, the Stage I trees, a random
 *	  forest (forest.h), the network and a logistic regression (logreg.h).
 *
 * Every part is trained on k - 1 folds and scores the held-out fold, so each
 * training row gets four out-of-fold margins that never saw its label.  A
 * logistic regression with an intercept, weights >= 0 and a small ridge
 * (the stacker) is fitted on them; the final parts are trained on every row
 * and the model scores b + sum_j w_j part_j(x).  Non-negative weights keep
 * the blend a monotone combination of its parts (a part can only push the
 * score its own way), which is what makes stacking stable (Breiman).
 *
 * The fallback that keeps the blend from losing to its best part is model
 * selection by the same cross-validation: the stacker is itself cross-fitted
 * over the folds (fitted on the other folds' out-of-fold margins, applied to
 * the held-out fold), and that out-of-fold AUC is compared with each part's
 * own.  The blend is kept when it is strictly better than every part;
 * otherwise the best part alone is kept (its weight and intercept from the
 * stacker restricted to it, which leaves its ranking unchanged).  Both
 * candidates are judged on rows the judged weights never saw.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/metrics.h"
#include "scfrisk/xgb_mlp.h"

const char *const xgb_mlp_part_names[XGB_MLP_N_PARTS] = {"trees", "forest", "mlp", "logreg"};

/* ------------------------------------------------------------ the linear part */

/* Column means over the finite values (0 for a column without one). */
static void
column_means(const double *x, size_t n, uint32_t d, double *mean)
{
	uint32_t	j;
	size_t		i;

	for (j = 0; j < d; j++)
	{
		double		s = 0.0;
		size_t		c = 0;

		for (i = 0; i < n; i++)
			if (!isnan(x[i * d + j]))
			{
				s += x[i * d + j];
				c++;
			}
		mean[j] = c ? s / (double) c : 0.0;
	}
}

/*
 * Logistic regression on x with every missing value replaced by its column's
 * training mean (logreg_fit takes finite values only; the network and the
 * trees take missing values, so the blend must too).  mean (d) is filled.
 */
static sf_status
fit_linear(sf_env *env, const logreg_params *p, const double *x, const double *y, size_t n,
		   uint32_t d, logreg_model *lin, double *mean)
{
	double	   *xi = sf_malloc(env, sizeof(double) * n * d);
	size_t		i;
	sf_status	st;

	if (xi == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the blend's logistic regression");
	column_means(x, n, d, mean);
	for (i = 0; i < n * d; i++)
		xi[i] = isnan(x[i]) ? mean[i % d] : x[i];
	st = logreg_fit(env, p, xi, y, n, (int) d, lin);
	sf_free(env, xi);
	return st;
}

static double
linear_margin(const logreg_model *lin, const double *mean, const double *x)
{
	double		s = lin->intercept;
	uint32_t	j;

	for (j = 0; j < lin->n_features; j++)
		s += lin->coef[j] * (isnan(x[j]) ? mean[j] : x[j]);
	return s;
}

/*
 * The forest's margin: the log-odds of its probability, the scale of the
 * other parts' margins (a blend of log-odds is a product of odds ratios).
 * The probability is moved half a tree's vote from 0 and 1, as a share of
 * n_trees votes with the usual half-count correction, so a row every tree
 * puts in a pure leaf has a finite margin.
 */
static double
forest_margin(const forest_model *rf, const double *x)
{
	double		t = (double) rf->n_trees,
				p = (forest_predict(rf, x) * t + 0.5) / (t + 1.0);

	return log(p / (1.0 - p));
}

/* The network's input: the selected columns of x. */
static double
network_margin(const xgb_mlp_model *m, const mlp_model *net, const double *x)
{
	double		xs[NN_MAX_UNITS];
	uint32_t	j;

	for (j = 0; j < m->n_selected; j++)
		xs[j] = x[m->selected[j]];
	return mlp_predict_margin(net, xs);
}

/* ------------------------------------------------------------ out-of-fold margins */

/* The forest, network and linear part trained on xt (nt rows) score the rows of fold f. */
static sf_status
oof_fold(sf_env *env, const xgb_mlp_params *p, const xgb_mlp_model *m, const double *x,
		 size_t n, uint32_t d, const uint8_t *fold, int f, const double *xt, const double *yt,
		 size_t nt, double *xs, double *mean, double *z)
{
	forest_model *rf = NULL;
	logreg_model lin;
	mlp_model	net;
	size_t		i;
	uint32_t	j;
	sf_status	st;

	memset(&lin, 0, sizeof(lin));
	memset(&net, 0, sizeof(net));
	if ((st = forest_train(env, SF_KIND_FOREST, xt, yt, nt, d, &p->rf, &rf)) != SF_OK)
		return st;
	if ((st = fit_linear(env, &p->logreg, xt, yt, nt, d, &lin, mean)) != SF_OK)
		goto done;
	for (i = 0; i < nt; i++)
		for (j = 0; j < m->n_selected; j++)
			xs[i * m->n_selected + j] = xt[i * d + m->selected[j]];
	if ((st = mlp_fit(env, &p->mlp, xs, yt, nt, (int) m->n_selected, &net)) != SF_OK)
		goto done;
	for (i = 0; i < n; i++)
		if (fold[i] == f)
		{
			double	   *zi = z + i * XGB_MLP_N_PARTS;

			zi[XGB_MLP_PART_FOREST] = forest_margin(rf, x + i * d);
			zi[XGB_MLP_PART_MLP] = network_margin(m, &net, x + i * d);
			zi[XGB_MLP_PART_LOGREG] = linear_margin(&lin, mean, x + i * d);
		}
done:
	forest_model_free(env, rf);
	logreg_free(env, &lin);
	mlp_free(env, &net);
	return st;
}

sf_status
xgb_mlp_blend_oof(sf_env *env, const xgb_mlp_params *p, const xgb_mlp_model *m,
				  const double *x, const double *y, size_t n, uint32_t d,
				  const uint8_t *fold, double *z)
{
	double	   *xt = sf_malloc(env, sizeof(double) * n * d);
	double	   *yt = sf_malloc(env, sizeof(double) * n);
	double	   *xs = sf_malloc(env, sizeof(double) * n * m->n_selected);
	double	   *mean = sf_malloc(env, sizeof(double) * d);
	double	   *margin = sf_malloc(env, sizeof(double) * n);
	sf_status	st = SF_OK;
	size_t		i;
	int			f;

	if (!xt || !yt || !xs || !mean || !margin)
		st = sf_fail(env, SF_ENOMEM, "out of memory for the blend's out-of-fold margins");
	/* the trees' margin is the stacked mode's, computed the same way */
	if (st == SF_OK &&
		(st = xgb_mlp_oof_margin(env, &p->xgb, x, y, n, d, p->folds, fold, margin)) == SF_OK)
		for (i = 0; i < n; i++)
			z[i * XGB_MLP_N_PARTS + XGB_MLP_PART_TREES] = margin[i];
	for (f = 0; f < p->folds && st == SF_OK; f++)
	{
		size_t		nt = 0;

		for (i = 0; i < n; i++)
			if (fold[i] != f)
			{
				memcpy(xt + nt * d, x + i * d, sizeof(double) * d);
				yt[nt++] = y[i];
			}
		st = oof_fold(env, p, m, x, n, d, fold, f, xt, yt, nt, xs, mean, z);
	}
	sf_free(env, xt);
	sf_free(env, yt);
	sf_free(env, xs);
	sf_free(env, mean);
	sf_free(env, margin);
	return st;
}

/* ------------------------------------------------------------ the stacker */

static double
softplus(double t)
{
	return t > 0.0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

/* The stacker's objective at eta (n) and weights w (k), penalty on w_j s_j. */
static double
stacker_objective(const double *eta, const double *y, size_t n, const double *w,
				  const double *s, int k, double ridge)
{
	double		o = 0.0;
	size_t		i;
	int			j;

	for (i = 0; i < n; i++)
		o += softplus(eta[i]) - y[i] * eta[i];
	for (j = 0; j < k; j++)
		o += 0.5 * ridge * w[j] * w[j] * s[j] * s[j];
	return o;
}

/*
 * One coordinate (c = -1: the intercept, unconstrained and unpenalised) by
 * a projected Newton step, halved until the objective does not rise.
 * Returns the change of the coordinate times its column's scale.
 */
static double
stacker_coordinate(const double *z, const double *y, size_t n, int k, int c, double *eta,
				   double *b, double *w, const double *s, double ridge, double *obj)
{
	double		g = 0.0,
				h = 0.0,
				old = c < 0 ? *b : w[c],
				step,
				nw;
	size_t		i;
	int			half;

	for (i = 0; i < n; i++)
	{
		double		zi = c < 0 ? 1.0 : z[i * k + c],
					pr = 1.0 / (1.0 + exp(-eta[i]));

		g += (pr - y[i]) * zi;
		h += pr * (1.0 - pr) * zi * zi;
	}
	if (c >= 0)
	{
		g += ridge * s[c] * s[c] * old;
		h += ridge * s[c] * s[c];
	}
	if (!(h > 0.0))
		return 0.0;
	step = -g / h;
	for (half = 0; half < 40; half++, step *= 0.5)
	{
		double		o;

		nw = c < 0 ? old + step : fmax(0.0, old + step);
		for (i = 0; i < n; i++)
			eta[i] += (nw - old) * (c < 0 ? 1.0 : z[i * k + c]);
		if (c < 0)
			*b = nw;
		else
			w[c] = nw;
		o = stacker_objective(eta, y, n, w, s, k, ridge);
		if (o <= *obj)
		{
			*obj = o;
			return fabs(nw - old) * (c < 0 ? 1.0 : s[c]);
		}
		/* undo and halve */
		for (i = 0; i < n; i++)
			eta[i] -= (nw - old) * (c < 0 ? 1.0 : z[i * k + c]);
		if (c < 0)
			*b = old;
		else
			w[c] = old;
	}
	return 0.0;
}

sf_status
xgb_mlp_stacker_fit(sf_env *env, const double *z, const double *y, size_t n, int k,
					const int *use, double ridge, double *intercept, double *w)
{
	double	   *eta = sf_malloc(env, sizeof(double) * (n ? n : 1));
	double		s[XGB_MLP_N_PARTS],
				pos = 0.0,
				obj;
	size_t		i;
	int			j,
				sweep;

	if (eta == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory fitting the blend's stacker");
	if (k > XGB_MLP_N_PARTS)
		k = XGB_MLP_N_PARTS;
	for (i = 0; i < n; i++)
		pos += y[i];
	for (j = 0; j < k; j++)
	{
		double		m = 0.0,
					v = 0.0;

		for (i = 0; i < n; i++)
			m += z[i * k + j];
		m /= (double) n;
		for (i = 0; i < n; i++)
			v += (z[i * k + j] - m) * (z[i * k + j] - m);
		s[j] = sqrt(v / (double) n);
		w[j] = 0.0;
	}
	/* start at the base rate: every weight 0 */
	*intercept = log((pos + 0.5) / ((double) n - pos + 0.5));
	for (i = 0; i < n; i++)
		eta[i] = *intercept;
	obj = stacker_objective(eta, y, n, w, s, k, ridge);
	for (sweep = 0; sweep < 500; sweep++)
	{
		double		moved = stacker_coordinate(z, y, n, k, -1, eta, intercept, w, s, ridge, &obj);

		for (j = 0; j < k; j++)
			if (use[j] && s[j] > 0.0)
				moved = fmax(moved, stacker_coordinate(z, y, n, k, j, eta, intercept, w, s, ridge, &obj));
		if (moved < 1e-10)
			break;
		if (sf_interrupted(env))
		{
			sf_free(env, eta);
			return sf_fail(env, SF_ECANCEL, "canceled while fitting the blend's stacker");
		}
	}
	sf_free(env, eta);
	return SF_OK;
}

/* AUC of the scores s (any real numbers: ranked through a sigmoid, which keeps the order). */
static sf_status
auc_of(sf_env *env, const double *y, const double *s, size_t n, double *tmp, double *auc)
{
	metrics_binary_result r;
	size_t		i;
	sf_status	st;

	for (i = 0; i < n; i++)
		tmp[i] = 1.0 / (1.0 + exp(-s[i]));
	if ((st = metrics_binary(env, y, tmp, n, 0.5, &r)) != SF_OK)
		return st;
	*auc = r.has_ranking ? r.auc : 0.5;
	return SF_OK;
}

/* The stacker cross-fitted over the folds: its margin of each row from the other folds' fit. */
static sf_status
cross_fit(sf_env *env, const double *z, const double *y, size_t n, int k, const uint8_t *fold,
		  int folds, double *zt, double *yt, double *out)
{
	int			use[XGB_MLP_N_PARTS] = {1, 1, 1, 1};
	double		b,
				w[XGB_MLP_N_PARTS];
	size_t		i;
	int			f,
				j;
	sf_status	st;

	for (f = 0; f < folds; f++)
	{
		size_t		nt = 0;

		for (i = 0; i < n; i++)
			if (fold[i] != f)
			{
				memcpy(zt + nt * k, z + i * k, sizeof(double) * k);
				yt[nt++] = y[i];
			}
		if ((st = xgb_mlp_stacker_fit(env, zt, yt, nt, k, use, XGB_MLP_STACKER_RIDGE, &b, w)) != SF_OK)
			return st;
		for (i = 0; i < n; i++)
			if (fold[i] == f)
			{
				out[i] = b;
				for (j = 0; j < k; j++)
					out[i] += w[j] * z[i * k + j];
			}
	}
	return SF_OK;
}

sf_status
xgb_mlp_blend_choose(sf_env *env, const double *z, const double *y, size_t n, int k,
					 const uint8_t *fold, xgb_mlp_model *m)
{
	double	   *col = sf_malloc(env, sizeof(double) * n);
	double	   *tmp = sf_malloc(env, sizeof(double) * n);
	double	   *zt = sf_malloc(env, sizeof(double) * n * k);
	double	   *yt = sf_malloc(env, sizeof(double) * n);
	int			use[XGB_MLP_N_PARTS] = {1, 1, 1, 1};
	int			best = 0,
				j;
	size_t		i;
	sf_status	st = SF_OK;

	if (!col || !tmp || !zt || !yt)
		st = sf_fail(env, SF_ENOMEM, "out of memory choosing the blend's weights");
	for (j = 0; j < k && st == SF_OK; j++)
	{
		for (i = 0; i < n; i++)
			col[i] = z[i * k + j];
		st = auc_of(env, y, col, n, tmp, &m->part_auc[j]);
		if (st == SF_OK && m->part_auc[j] > m->part_auc[best])
			best = j;
	}
	if (st == SF_OK && (st = cross_fit(env, z, y, n, k, fold, m->folds, zt, yt, col)) == SF_OK)
		st = auc_of(env, y, col, n, tmp, &m->blend_auc);
	if (st == SF_OK)
	{
		/* the blend only when it beats every part on rows its weights never saw */
		m->blend_choice = m->blend_auc > m->part_auc[best] ? -1 : best;
		for (j = 0; j < k; j++)
			use[j] = m->blend_choice < 0 || j == best;
		st = xgb_mlp_stacker_fit(env, z, y, n, k, use, XGB_MLP_STACKER_RIDGE,
								 &m->blend_intercept, m->blend_w);
	}
	sf_free(env, col);
	sf_free(env, tmp);
	sf_free(env, zt);
	sf_free(env, yt);
	return st;
}

/* ------------------------------------------------------------ final parts, scoring */

sf_status
xgb_mlp_blend_fit_parts(sf_env *env, const xgb_mlp_params *p, const double *x, const double *y,
						size_t n, uint32_t d, xgb_mlp_model *m)
{
	sf_status	st;

	/* a part of weight 0 is not trained again: it would not change a score */
	if (m->blend_w[XGB_MLP_PART_FOREST] > 0.0 &&
		(st = forest_train(env, SF_KIND_FOREST, x, y, n, d, &p->rf, &m->forest)) != SF_OK)
		return st;
	if (m->blend_w[XGB_MLP_PART_LOGREG] > 0.0)
	{
		if ((m->lin_mean = sf_malloc(env, sizeof(double) * d)) == NULL)
			return sf_fail(env, SF_ENOMEM, "out of memory for the blend's logistic regression");
		if ((st = fit_linear(env, &p->logreg, x, y, n, d, &m->lin, m->lin_mean)) != SF_OK)
			return st;
	}
	return SF_OK;
}

void
xgb_mlp_blend_parts(const xgb_mlp_model *m, const double *x, double *part)
{
	part[XGB_MLP_PART_TREES] = m->blend_w[XGB_MLP_PART_TREES] > 0.0 ?
		gbt_predict_margin(m->trees, x) : 0.0;
	part[XGB_MLP_PART_FOREST] = m->forest ? forest_margin(m->forest, x) : 0.0;
	part[XGB_MLP_PART_MLP] = m->blend_w[XGB_MLP_PART_MLP] > 0.0 ?
		network_margin(m, &m->mlp, x) : 0.0;
	part[XGB_MLP_PART_LOGREG] = m->lin.coef ? linear_margin(&m->lin, m->lin_mean, x) : 0.0;
}

void
xgb_mlp_blend_free(sf_env *env, xgb_mlp_model *m)
{
	forest_model_free(env, m->forest);
	m->forest = NULL;
	logreg_free(env, &m->lin);
	sf_free(env, m->lin_mean);
	m->lin_mean = NULL;
}

/* ------------------------------------------------------------ bytes */

/*
 * Blend section: f64 intercept, XGB_MLP_N_PARTS x f64 weights, u8 choice
 * (0 the blend, 1 + j part j alone), then when the logistic regression's
 * weight is > 0: f64 its intercept, d x f64 coefficients, d x f64 the
 * training means that replace missing values.  The forest's body follows in
 * FOREST_BODY_SECTIONS sections from XGB_MLP_TAG_FOREST when its weight is > 0.
 */
void
xgb_mlp_blend_encode(const xgb_mlp_model *m, sf_buf *b)
{
	size_t		mark = sf_section_begin(b, XGB_MLP_TAG_BLEND);

	sf_buf_put_f64(b, m->blend_intercept);
	sf_buf_put_f64s(b, m->blend_w, XGB_MLP_N_PARTS);
	sf_buf_put_u8(b, (uint8_t) (m->blend_choice + 1));
	if (m->lin.coef)
	{
		sf_buf_put_f64(b, m->lin.intercept);
		sf_buf_put_f64s(b, m->lin.coef, m->n_features);
		sf_buf_put_f64s(b, m->lin_mean, m->n_features);
	}
	sf_section_end(b, mark);
	if (m->forest)
		forest_encode_body(m->forest, b, XGB_MLP_TAG_FOREST);
}

static sf_status
corrupt(sf_env *env, const char *what)
{
	return sf_fail(env, SF_ECORRUPT, "corrupted xgb_mlp model: %s", what);
}

/* The weights, the choice and the linear part of the blend section. */
static sf_status
decode_weights(sf_env *env, const sf_section *s, xgb_mlp_model *m)
{
	sf_reader	r;
	uint32_t	d = m->n_features,
				j;
	uint8_t		choice;
	size_t		lin_bytes = 8 + (size_t) d * 16;

	sf_reader_init(&r, s->data, s->len);
	m->blend_intercept = sf_read_f64(&r);
	sf_read_f64s(&r, m->blend_w, XGB_MLP_N_PARTS);
	choice = sf_read_u8(&r);
	if (!sf_reader_ok(&r) || !isfinite(m->blend_intercept) || choice > XGB_MLP_N_PARTS)
		return corrupt(env, "bad blend section");
	m->blend_choice = (int) choice - 1;
	for (j = 0; j < XGB_MLP_N_PARTS; j++)
		if (!(m->blend_w[j] >= 0.0 && isfinite(m->blend_w[j])) ||
			(m->blend_choice >= 0 && (int) j != m->blend_choice && m->blend_w[j] != 0.0))
			return corrupt(env, "a blend weight is negative, not finite or beside the one part kept");
	if (sf_reader_left(&r) != (m->blend_w[XGB_MLP_PART_LOGREG] > 0.0 ? lin_bytes : 0))
		return corrupt(env, "the blend section's length does not match its logistic regression");
	if (m->blend_w[XGB_MLP_PART_LOGREG] == 0.0)
		return SF_OK;
	m->lin.coef = sf_malloc(env, sizeof(double) * d);
	m->lin_mean = sf_malloc(env, sizeof(double) * d);
	if (m->lin.coef == NULL || m->lin_mean == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding an xgb_mlp model");
	m->lin.n_features = d;
	m->lin.fit_intercept = 1;
	m->lin.intercept = sf_read_f64(&r);
	sf_read_f64s(&r, m->lin.coef, d);
	sf_read_f64s(&r, m->lin_mean, d);
	if (!isfinite(m->lin.intercept))
		return corrupt(env, "the blend's logistic regression is not finite");
	for (j = 0; j < d; j++)
		if (!isfinite(m->lin.coef[j]) || !isfinite(m->lin_mean[j]))
			return corrupt(env, "the blend's logistic regression is not finite");
	return SF_OK;
}

sf_status
xgb_mlp_blend_decode(sf_env *env, const sf_container *c, xgb_mlp_model *m)
{
	const sf_section *s = sf_container_find(c, XGB_MLP_TAG_BLEND);
	sf_status	st;
	int			j;

	m->blend_choice = -1;
	m->blend_auc = NAN;
	for (j = 0; j < XGB_MLP_N_PARTS; j++)
		m->part_auc[j] = NAN;
	if ((s != NULL) != (m->mode == XGB_MLP_MODE_BLEND) ||
		(sf_container_find(c, XGB_MLP_TAG_FOREST) != NULL && m->mode != XGB_MLP_MODE_BLEND))
		return corrupt(env, "the blend sections do not match the mode");
	if (s == NULL)
		return SF_OK;
	if ((st = decode_weights(env, s, m)) != SF_OK)
		return st;
	if (m->blend_w[XGB_MLP_PART_FOREST] == 0.0)
		return sf_container_find(c, XGB_MLP_TAG_FOREST) ? corrupt(env, "a forest of weight 0") : SF_OK;
	if ((m->forest = sf_calloc(env, 1, sizeof(forest_model))) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding an xgb_mlp model");
	m->forest->kind = SF_KIND_FOREST;
	m->forest->n_features = m->n_features;
	if ((st = forest_decode_body(env, c, XGB_MLP_TAG_FOREST, m->forest)) != SF_OK)
		return st;
	if (m->forest->objective != FOREST_OBJ_BINARY)
		return corrupt(env, "the blend's forest is not a binary classifier");
	return SF_OK;
}

static void
put_num(sf_buf *b, const char *fmt, double v)
{
	char		t[64];

	if (isfinite(v))
		snprintf(t, sizeof(t), fmt, v);
	else
		snprintf(t, sizeof(t), "null");
	sf_buf_put_bytes(b, t, strlen(t));
}

/* ", "key": {"trees": v, ...}": one number per part. */
static void
put_parts(sf_buf *b, const char *key, const double *v)
{
	char		t[96];
	int			j;

	snprintf(t, sizeof(t), ", \"%s\": {", key);
	sf_buf_put_bytes(b, t, strlen(t));
	for (j = 0; j < XGB_MLP_N_PARTS; j++)
	{
		snprintf(t, sizeof(t), "%s\"%s\": ", j ? ", " : "", xgb_mlp_part_names[j]);
		sf_buf_put_bytes(b, t, strlen(t));
		put_num(b, "%.17g", v[j]);
	}
	sf_buf_put_bytes(b, "}", 1);
}

/* ", "blend": {...}": weights and choice; with diagnostics the out-of-fold AUCs too. */
void
xgb_mlp_blend_json(const xgb_mlp_model *m, sf_buf *b, int diagnostics)
{
	char		t[96];

	snprintf(t, sizeof(t), ", \"blend\": {\"choice\": \"%s\", \"intercept\": ",
			 m->blend_choice < 0 ? "blend" : xgb_mlp_part_names[m->blend_choice]);
	sf_buf_put_bytes(b, t, strlen(t));
	put_num(b, "%.17g", m->blend_intercept);
	put_parts(b, "weights", m->blend_w);
	if (diagnostics)
	{
		sf_buf_put_bytes(b, ", \"blend_auc\": ", 15);
		put_num(b, "%.17g", m->blend_auc);
		put_parts(b, "part_auc", m->part_auc);
	}
	sf_buf_put_bytes(b, "}", 1);
}
