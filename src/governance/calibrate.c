/*
 * calibrate.c
 *	  Probability calibration: Platt scaling and isotonic regression fitted
 *	  on margins and labels, the map applied at scoring, the reliability
 *	  table, and the bytes of the SF_TAG_CALIBRATION section.
 *
 * Both methods follow scikit-learn 1.2's CalibratedClassifierCV, which the
 * peer test compares with: Platt's smoothed targets and sign convention
 * (_sigmoid_calibration), and IsotonicRegression(out_of_bounds="clip") with
 * ties of the input pooled, pool-adjacent-violators, linear interpolation
 * between knots.  Platt is solved by Newton's method with a backtracking
 * line search on the same log-likelihood (Lin, Lin and Weng 2007, "A note
 * on Platt's probabilistic outputs"), so it reaches the optimum that
 * scikit-learn's BFGS approaches to its tolerance.
 *
 * Section body (little-endian, docs/format.md): u32 version (1), u8 method,
 * u64 rows, then Platt: f64 a, f64 b; isotonic: u32 n, f64 x n, f64 y n.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_governance.h"

#define PLATT_MAX_ITER	100
#define PLATT_MIN_STEP	1e-10
#define PLATT_SIGMA		1e-12	/* Hessian ridge of Lin et al. */
#define PLATT_EPS		1e-10	/* gradient norm at which Newton stops */

int
sf_calib_method(const char *name)
{
	if (strcmp(name, "platt") == 0)
		return SF_CALIB_PLATT;
	if (strcmp(name, "isotonic") == 0)
		return SF_CALIB_ISOTONIC;
	return -1;
}

const char *
sf_calib_method_name(int method)
{
	return method == SF_CALIB_PLATT ? "platt" : method == SF_CALIB_ISOTONIC ? "isotonic" : "none";
}

/* Both classes present and labels 0/1: SF_EDATA otherwise. */
static sf_status
check_labels(sf_env *env, const double *f, const double *y, size_t n, double *n1)
{
	size_t		i;

	*n1 = 0.0;
	if (n == 0)
		return sf_fail(env, SF_EDATA, "no calibration rows");
	for (i = 0; i < n; i++)
	{
		if (y[i] != 0.0 && y[i] != 1.0)
			return sf_fail(env, SF_EDATA, "label of row %zu is %g, calibration needs 0 or 1",
						   i + 1, y[i]);
		if (!isfinite(f[i]))
			return sf_fail(env, SF_EDATA, "score of row %zu is missing or a probability of "
						   "exactly 0 or 1: calibration needs finite margins", i + 1);
		*n1 += y[i];
	}
	if (*n1 == 0.0 || *n1 == (double) n)
		return sf_fail(env, SF_EDATA, "calibration needs both classes, every label is %d",
					   *n1 > 0.0 ? 1 : 0);
	return SF_OK;
}

/*
 * Negative log-likelihood of Platt's targets t at (a, b), computed stably:
 * with z = a f + b, p = 1 / (1 + e^z), -[t log p + (1 - t) log(1 - p)] =
 * t log(1 + e^z) + (1 - t) log(1 + e^-z).
 */
double
sf_platt_loss(const double *f, const double *t, size_t n, double a, double b)
{
	double		s = 0.0;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		double		z = a * f[i] + b;

		if (z >= 0)
			s += t[i] * z + log1p(exp(-z));
		else
			s += log1p(exp(z)) - (1.0 - t[i]) * z;
	}
	return s;
}

int
sf_platt_step(const double *f, const double *t, size_t n, const double g[2], const double h[3],
			  double *a, double *b, double *fval)
{
	double		det = h[0] * h[2] - h[1] * h[1],
				da = -(h[2] * g[0] - h[1] * g[1]) / det,
				db = -(-h[1] * g[0] + h[0] * g[1]) / det,
				gd = g[0] * da + g[1] * db,
				step;

	for (step = 1.0; step >= PLATT_MIN_STEP; step /= 2.0)
	{
		double		na = *a + step * da,
					nb = *b + step * db,
					nf = sf_platt_loss(f, t, n, na, nb);

		if (nf < *fval + 1e-4 * step * gd)
		{
			*a = na;
			*b = nb;
			*fval = nf;
			return 1;
		}
	}
	return 0;
}

sf_status
sf_calib_fit_platt(sf_env *env, const double *f, const double *y, size_t n, sf_calib *out)
{
	double		n1,
				n0,
				hi,
				lo,
				a = 0.0,
				b,
				fval;
	double	   *t;
	size_t		i;
	int			it;
	sf_status	st;

	memset(out, 0, sizeof(*out));
	if ((st = check_labels(env, f, y, n, &n1)) != SF_OK)
		return st;
	n0 = (double) n - n1;
	hi = (n1 + 1.0) / (n1 + 2.0);
	lo = 1.0 / (n0 + 2.0);
	t = sf_malloc(env, sizeof(double) * n);
	if (t == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for Platt scaling");
	for (i = 0; i < n; i++)
		t[i] = y[i] > 0.0 ? hi : lo;
	b = log((n0 + 1.0) / (n1 + 1.0));
	fval = sf_platt_loss(f, t, n, a, b);
	for (it = 0; it < PLATT_MAX_ITER; it++)
	{
		double		h[3] = {PLATT_SIGMA, 0.0, PLATT_SIGMA},	/* h11, h21, h22 */
					g[2] = {0.0, 0.0};

		if (sf_interrupted(env))
		{
			sf_free(env, t);
			return sf_fail(env, SF_ECANCEL, "canceled");
		}
		for (i = 0; i < n; i++)
		{
			double		z = a * f[i] + b;
			/* p = 1 / (1 + e^z) and q = 1 - p, without overflow */
			double		p = z >= 0 ? exp(-z) / (1.0 + exp(-z)) : 1.0 / (1.0 + exp(z));
			double		q = 1.0 - p;
			double		d2 = p * q;
			double		d1 = t[i] - p;

			h[0] += f[i] * f[i] * d2;
			h[2] += d2;
			h[1] += f[i] * d2;
			g[0] += f[i] * d1;
			g[1] += d1;
		}
		if (fabs(g[0]) < PLATT_EPS * (double) n && fabs(g[1]) < PLATT_EPS * (double) n)
			break;
		if (!sf_platt_step(f, t, n, g, h, &a, &b, &fval))
			break;				/* no descent left: at the optimum to rounding */
	}
	sf_free(env, t);
	if (!isfinite(a) || !isfinite(b))
		return sf_fail(env, SF_ENUMERIC, "Platt scaling did not converge");
	out->method = SF_CALIB_PLATT;
	out->a = a;
	out->b = b;
	out->rows = n;
	return SF_OK;
}

typedef struct fy
{
	double		f,
				y;
} fy;

static int
cmp_fy(const void *pa, const void *pb)
{
	const fy   *a = pa,
			   *b = pb;

	if (a->f != b->f)
		return (a->f > b->f) - (a->f < b->f);
	return (a->y > b->y) - (a->y < b->y);
}

sf_status
sf_calib_fit_isotonic(sf_env *env, const double *f, const double *y, size_t n, sf_calib *out)
{
	fy		   *r;
	double	   *bx,
			   *by,
			   *bw,
			   *val,
			   *wt;
	size_t	   *bstart;
	size_t		i,
				m = 0,
				nb = 0,
				k;
	double		n1;
	sf_status	st;

	memset(out, 0, sizeof(*out));
	if ((st = check_labels(env, f, y, n, &n1)) != SF_OK)
		return st;
	if (!sf_alloc_all(env, SF_MALLOC_N(r, n), SF_MALLOC_N(bx, n), SF_MALLOC_N(by, n), SF_MALLOC_N(bw, n),
					  SF_MALLOC_N(val, n), SF_MALLOC_N(wt, n), SF_MALLOC_N(bstart, n + 1)))
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for isotonic regression");
		goto done;
	}
	for (i = 0; i < n; i++)
	{
		r[i].f = f[i];
		r[i].y = y[i];
	}
	qsort(r, n, sizeof(fy), cmp_fy);
	/* pool ties of f: one point per distinct f, weight = count, y = mean */
	for (i = 0; i < n; i++)
	{
		if (m > 0 && r[i].f == bx[m - 1])
		{
			by[m - 1] += r[i].y;
			bw[m - 1] += 1.0;
			continue;
		}
		bx[m] = r[i].f;
		by[m] = r[i].y;
		bw[m] = 1.0;
		m++;
	}
	for (i = 0; i < m; i++)
		by[i] /= bw[i];
	/*
	 * Pool adjacent violators: blocks (first point, value, weight).  Equal
	 * neighbours merge too, which leaves the fitted function unchanged and
	 * makes each block a maximal constant run, the runs whose two ends
	 * scikit-learn keeps as knots.
	 */
	for (i = 0; i < m; i++)
	{
		bstart[nb] = i;
		val[nb] = by[i];
		wt[nb] = bw[i];
		nb++;
		while (nb > 1 && val[nb - 2] >= val[nb - 1])
		{
			double		w2 = wt[nb - 2] + wt[nb - 1];

			val[nb - 2] = (val[nb - 2] * wt[nb - 2] + val[nb - 1] * wt[nb - 1]) / w2;
			wt[nb - 2] = w2;
			nb--;
		}
	}
	bstart[nb] = m;
	out->x = sf_malloc(env, sizeof(double) * 2 * nb);
	out->y = sf_malloc(env, sizeof(double) * 2 * nb);
	if (out->x == NULL || out->y == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for isotonic regression");
		goto done;
	}
	/* knots: both ends of each block (one when the block is one point) */
	for (k = 0; k < nb; k++)
	{
		out->x[out->n] = bx[bstart[k]];
		out->y[out->n++] = val[k];
		if (bstart[k + 1] - 1 > bstart[k])
		{
			out->x[out->n] = bx[bstart[k + 1] - 1];
			out->y[out->n++] = val[k];
		}
	}
	out->method = SF_CALIB_ISOTONIC;
	out->rows = n;
	st = SF_OK;
done:
	sf_free_all(env, r, bx, by, bw, val, wt, bstart);
	if (st != SF_OK)
		sf_calib_free(env, out);
	return st;
}

double
sf_calib_apply(const sf_calib *c, double f)
{
	uint32_t	lo,
				hi;

	if (isnan(f))
		return f;
	if (c->method == SF_CALIB_PLATT)
	{
		/* a probability of 0 or 1 is an infinite margin: a = 0 leaves b alone */
		double		z = c->a == 0.0 ? c->b : c->a * f + c->b;

		return z >= 0 ? exp(-z) / (1.0 + exp(-z)) : 1.0 / (1.0 + exp(z));
	}
	if (c->method != SF_CALIB_ISOTONIC)
		return f;
	if (f <= c->x[0])
		return c->y[0];
	if (f >= c->x[c->n - 1])
		return c->y[c->n - 1];
	/* the knot interval x[lo] <= f < x[lo + 1] */
	lo = 0;
	hi = c->n - 1;
	while (hi - lo > 1)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (c->x[mid] <= f)
			lo = mid;
		else
			hi = mid;
	}
	return c->y[lo] + (f - c->x[lo]) * (c->y[hi] - c->y[lo]) / (c->x[hi] - c->x[lo]);
}

/* ------------------------------------------------------------ reliability */

uint32_t
sf_calib_table_bin(uint32_t n_bins, double p)
{
	uint32_t	lo = 0,
				hi = n_bins - 1;

	/* inner edges k * (1 / n_bins), as numpy's linspace computes them; searchsorted side "left" */
	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;
		double		edge = (double) (mid + 1) * (1.0 / (double) n_bins);

		if (edge < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
sf_calib_table(uint32_t n_bins, const uint64_t *count, const double *sum_p, const double *sum_y,
			   double *mean_p, double *rate, double *ece, double *mce)
{
	uint64_t	total = 0;
	uint32_t	k;

	*ece = 0.0;
	*mce = 0.0;
	for (k = 0; k < n_bins; k++)
		total += count[k];
	for (k = 0; k < n_bins; k++)
	{
		double		gap;

		if (count[k] == 0)
		{
			mean_p[k] = rate[k] = NAN;
			continue;
		}
		mean_p[k] = sum_p[k] / (double) count[k];
		rate[k] = sum_y[k] / (double) count[k];
		gap = fabs(rate[k] - mean_p[k]);
		*ece += (double) count[k] / (double) total * gap;
		if (gap > *mce)
			*mce = gap;
	}
	if (total == 0)
		*ece = *mce = NAN;
}

/* ------------------------------------------------------------ bytes */

void
sf_calib_encode(const sf_calib *c, sf_buf *b)
{
	sf_buf_put_u32(b, SF_CALIB_VERSION);
	sf_buf_put_u8(b, (uint8_t) c->method);
	sf_buf_put_u64(b, c->rows);
	if (c->method == SF_CALIB_PLATT)
	{
		sf_buf_put_f64(b, c->a);
		sf_buf_put_f64(b, c->b);
	}
	else
	{
		sf_buf_put_u32(b, c->n);
		sf_buf_put_f64s(b, c->x, c->n);
		sf_buf_put_f64s(b, c->y, c->n);
	}
}

sf_status
sf_calib_decode(sf_env *env, const uint8_t *data, size_t len, sf_calib *out)
{
	sf_reader	r;
	uint32_t	version,
				k;

	memset(out, 0, sizeof(*out));
	sf_reader_init(&r, data, len);
	version = sf_read_u32(&r);
	out->method = sf_read_u8(&r);
	out->rows = sf_read_u64(&r);
	if (!sf_reader_ok(&r))
		return sf_fail(env, SF_ECORRUPT, "calibration section is truncated");
	if (version != SF_CALIB_VERSION)
		return sf_fail(env, SF_ECORRUPT, "calibration section has version %u, this scfrisk reads %d",
					   (unsigned) version, SF_CALIB_VERSION);
	if (out->method == SF_CALIB_PLATT)
	{
		out->a = sf_read_f64(&r);
		out->b = sf_read_f64(&r);
		if (!sf_reader_ok(&r) || !isfinite(out->a) || !isfinite(out->b))
			return sf_fail(env, SF_ECORRUPT, "calibration section: Platt coefficients are truncated or not finite");
	}
	else if (out->method == SF_CALIB_ISOTONIC)
	{
		out->n = sf_read_u32(&r);
		if (!sf_reader_ok(&r) || out->n < 1 || out->n > SF_CALIB_MAX_POINTS ||
			!sf_reader_has(&r, 2 * (uint64_t) out->n, 8))
			return sf_fail(env, SF_ECORRUPT, "calibration section: %u isotonic knots do not fit",
						   (unsigned) out->n);
		out->x = sf_malloc(env, sizeof(double) * out->n);
		out->y = sf_malloc(env, sizeof(double) * out->n);
		if (out->x == NULL || out->y == NULL)
			return sf_fail(env, SF_ENOMEM, "out of memory decoding the calibration section");
		sf_read_f64s(&r, out->x, out->n);
		sf_read_f64s(&r, out->y, out->n);
		for (k = 0; k < out->n; k++)
			if (!isfinite(out->x[k]) || (k > 0 && !(out->x[k] > out->x[k - 1])) ||
				!(out->y[k] >= 0.0 && out->y[k] <= 1.0) || (k > 0 && out->y[k] < out->y[k - 1]))
				return sf_fail(env, SF_ECORRUPT,
							   "calibration section: isotonic knot %u breaks the order or leaves [0, 1]",
							   (unsigned) k + 1);
	}
	else
		return sf_fail(env, SF_ECORRUPT, "calibration section has unknown method %d", out->method);
	if (sf_reader_left(&r) != 0)
		return sf_fail(env, SF_ECORRUPT, "calibration section has %zu trailing bytes",
					   sf_reader_left(&r));
	return SF_OK;
}

void
sf_calib_free(sf_env *env, sf_calib *c)
{
	sf_free_clear(env, &c->x, &c->y);
	c->n = 0;
}

sf_status
sf_calib_check(sf_env *env, const uint8_t *data, size_t len)
{
	sf_calib	c;
	sf_status	st = sf_calib_decode(env, data, len, &c);

	sf_calib_free(env, &c);
	return st;
}
