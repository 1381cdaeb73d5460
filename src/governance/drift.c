/*
 * drift.c
 *	  Training distributions for drift monitoring: decile bins of the score
 *	  and of every feature, the population stability index, and the bytes of
 *	  the SF_TAG_DRIFT section.
 *
 * PSI = sum over bins of (a - e) ln(a / e), with e the training share and a
 * the live share of a bin (Siddiqi, Credit Risk Scorecards, 2006); the CSI
 * of a feature is the same index over that feature's bins.  A bin empty on
 * one side would make the index infinite, so a share of 0 counts as
 * SF_PSI_FLOOR there (the bin table shows the raw shares).  Missing values
 * have their own slot, so a feature that starts to go missing shows up.
 *
 * Section body (little-endian, docs/format.md):
 *	  u32 version (1), u8 scale, u64 rows, dist score, u32 n_features,
 *	  n_features x dist;  dist = u32 n_bins, f64 x (n_bins - 1) edges,
 *	  f64 x n_bins shares, f64 missing share.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_governance.h"

double
sf_scale_score(int scale, double s)
{
	if (scale == SF_SCALE_LOGIT)
		return log(s) - log1p(-s);
	return s;
}

static inline void
swap_double(double *a, double *b)
{
	double		t = *a;

	*a = *b;
	*b = t;
}

/*
 * Put the order statistics s[want[0..nw-1]] (ascending indices within
 * [lo, hi)) in place, as a sort would, without sorting: a training
 * distribution needs n_q - 1 order statistics and the minimum, and a full
 * sort of each of 21 columns of a million training rows was a quarter of
 * xgb_train's time.  Hoare partitions around a median of three, recursing
 * only into the sides that hold a wanted index; past a depth of about
 * 2 log2(n) (adversarial data) the range is sorted instead, so the worst
 * case stays O(n log n).  The values found are the sort's, so the model
 * bytes do not change.
 */
static void
select_order_stats(double *s, size_t lo, size_t hi, const size_t *want, size_t nw, int depth)
{
	while (nw > 0 && hi - lo > 16)
	{
		size_t		mid = lo + (hi - lo) / 2,
					i = lo,
					j = hi - 1,
					k;
		double		pivot;

		if (depth-- <= 0)
			break;
		if (s[mid] < s[lo])
			swap_double(&s[mid], &s[lo]);
		if (s[hi - 1] < s[lo])
			swap_double(&s[hi - 1], &s[lo]);
		if (s[hi - 1] < s[mid])
			swap_double(&s[hi - 1], &s[mid]);
		pivot = s[mid];
		/* Hoare: afterwards s[lo..j] <= pivot <= s[j+1..hi-1] */
		for (;;)
		{
			while (s[i] < pivot)
				i++;
			while (s[j] > pivot)
				j--;
			if (i >= j)
				break;
			swap_double(&s[i], &s[j]);
			i++;
			j--;
		}
		/* wanted indices at or below j go left, the rest right */
		for (k = 0; k < nw && want[k] <= j; k++)
			;
		if (k < nw)
			select_order_stats(s, j + 1, hi, want + k, nw - k, depth);
		hi = j + 1;
		nw = k;
	}
	if (nw > 0)
		qsort(s + lo, hi - lo, sizeof(double), sf_cmp_double);
}

sf_status
sf_dist_build(sf_env *env, const double *v, size_t n, size_t stride, uint32_t n_q, sf_dist *out)
{
	double	   *s;
	size_t		m = 0,
				i;
	uint32_t	k,
				ne = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n_q < 1 || n_q > SF_DRIFT_MAX_QUANTILES)
		return sf_fail(env, SF_EINVAL, "a distribution needs rows and 1 to %d quantiles",
					   SF_DRIFT_MAX_QUANTILES);
	s = sf_malloc(env, sizeof(double) * n);
	out->edges = sf_calloc(env, n_q, sizeof(double));
	out->share = sf_calloc(env, n_q, sizeof(double));
	if (s == NULL || out->edges == NULL || out->share == NULL)
	{
		sf_free(env, s);
		sf_dist_free(env, out);
		return sf_fail(env, SF_ENOMEM, "out of memory for a training distribution");
	}
	for (i = 0; i < n; i++)
		if (!isnan(v[i * stride]))
			s[m++] = v[i * stride];
	if (m > 0)
	{
		size_t		want[SF_DRIFT_MAX_QUANTILES + 1];
		size_t		nw = 0;
		int			depth = 2;

		for (i = m; i > 1; i >>= 1)
			depth += 2;
		want[nw++] = 0;
		for (k = 1; k < n_q; k++)
		{
			size_t		at = (size_t) ((double) k * (double) m / n_q);

			if (at > want[nw - 1])
				want[nw++] = at;
		}
		select_order_stats(s, 0, m, want, nw, depth);
	}
	/*
	 * edges: distinct finite order statistics at k / n_q of the present
	 * values, above the minimum (an edge at the minimum would leave the first
	 * bin empty in training, so any live value below it would weigh as a
	 * whole bin's shift)
	 */
	for (k = 1; m > 0 && k < n_q; k++)
	{
		double		e = s[(size_t) ((double) k * (double) m / n_q)];

		if (isfinite(e) && e > s[0] && (ne == 0 || e > out->edges[ne - 1]))
			out->edges[ne++] = e;
	}
	out->n_bins = ne + 1;
	/* shares of all rows, counted by the same rule that bins live values */
	for (i = 0; i < m; i++)
		out->share[sf_dist_bin(out, s[i])] += 1.0;
	for (k = 0; k < out->n_bins; k++)
		out->share[k] /= (double) n;
	out->missing = (double) (n - m) / (double) n;
	sf_free(env, s);
	return SF_OK;
}

/* The bins of given edges, shares zeroed (the start of sf_dist_build_on and _codes). */
static sf_status
dist_on_edges(sf_env *env, size_t n, const double *edges, uint32_t ne, sf_dist *out)
{
	uint32_t	k;

	memset(out, 0, sizeof(*out));
	if (n == 0 || ne + 1 > SF_DRIFT_MAX_BINS)
		return sf_fail(env, SF_EINVAL, "a distribution needs rows and at most %d edges",
					   SF_DRIFT_MAX_BINS - 1);
	for (k = 0; k < ne; k++)
		if (!isfinite(edges[k]) || (k > 0 && !(edges[k] > edges[k - 1])))
			return sf_fail(env, SF_EINVAL, "the edges of a distribution must be finite and increasing");
	out->edges = sf_calloc(env, ne + 1, sizeof(double));
	out->share = sf_calloc(env, ne + 1, sizeof(double));
	if (out->edges == NULL || out->share == NULL)
	{
		sf_dist_free(env, out);
		return sf_fail(env, SF_ENOMEM, "out of memory for a training distribution");
	}
	memcpy(out->edges, edges, sizeof(double) * ne);
	out->n_bins = ne + 1;
	return SF_OK;
}

sf_status
sf_dist_build_on(sf_env *env, const double *v, size_t n, size_t stride, const double *edges,
				 uint32_t ne, sf_dist *out)
{
	size_t		i,
				m = 0;
	uint32_t	k;
	sf_status	st = dist_on_edges(env, n, edges, ne, out);

	if (st != SF_OK)
		return st;
	for (i = 0; i < n; i++)
		if (!isnan(v[i * stride]))
		{
			out->share[sf_dist_bin(out, v[i * stride])] += 1.0;
			m++;
		}
	for (k = 0; k < out->n_bins; k++)
		out->share[k] /= (double) n;
	out->missing = (double) (n - m) / (double) n;
	return SF_OK;
}

/* Bin of the values of code c, or -1 when an edge falls strictly inside the code. */
static int64_t
code_bin(const sf_dist *d, const sf_dist_codes *c, uint32_t code)
{
	double		lo = code == 0 ? (double) c->lower : (double) c->upper[code - 1];
	uint32_t	k = sf_dist_bin(d, lo);

	/* edges[k] is the first edge above lo: inside [lo, upper) it splits the code */
	if (k + 1 < d->n_bins && d->edges[k] < (double) c->upper[code])
		return -1;
	return k;
}

int
sf_dist_codes_fit(const sf_dist_codes *c, const double *edges, uint32_t ne)
{
	sf_dist		d = {.n_bins = ne + 1, .edges = (double *) edges};
	uint32_t	code;

	for (code = 0; code < c->n_codes; code++)
		if (c->count[code] > 0 && code_bin(&d, c, code) < 0)
			return 0;
	return 1;
}

sf_status
sf_dist_build_codes(sf_env *env, const sf_dist_codes *c, const double *edges, uint32_t ne,
					sf_dist *out)
{
	uint64_t	n = c->missing;
	uint32_t	code,
				k;
	sf_status	st;

	for (code = 0; code < c->n_codes; code++)
		n += c->count[code];
	if ((st = dist_on_edges(env, (size_t) n, edges, ne, out)) != SF_OK)
		return st;
	/* a count below 2^53 is the exact sum of that many 1.0, as sf_dist_build_on adds */
	for (code = 0; code < c->n_codes; code++)
		if (c->count[code] > 0)
		{
			int64_t		bin = code_bin(out, c, code);

			if (bin < 0)
			{
				sf_dist_free(env, out);
				return sf_fail(env, SF_EINVAL, "an edge of a distribution falls inside code %u",
							   (unsigned) code);
			}
			out->share[bin] += (double) c->count[code];
		}
	for (k = 0; k < out->n_bins; k++)
		out->share[k] /= (double) n;
	out->missing = (double) c->missing / (double) n;
	return SF_OK;
}

void
sf_dist_free(sf_env *env, sf_dist *d)
{
	sf_free_clear(env, &d->edges, &d->share);
	d->n_bins = 0;
}

uint32_t
sf_dist_bin(const sf_dist *d, double v)
{
	uint32_t	lo = 0,
				hi = d->n_bins - 1;

	if (isnan(v))
		return d->n_bins;
	/* the number of edges <= v (numpy's searchsorted side="right") */
	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (d->edges[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

double
sf_psi(const sf_dist *d, const uint64_t *counts, double *actual, double *contrib)
{
	uint64_t	total = 0;
	uint32_t	k;
	double		psi = 0.0;

	for (k = 0; k <= d->n_bins; k++)
		total += counts[k];
	if (total == 0)
		return NAN;
	for (k = 0; k <= d->n_bins; k++)
	{
		double		e = k < d->n_bins ? d->share[k] : d->missing;
		double		a = (double) counts[k] / (double) total;
		double		term = 0.0;

		if (a > 0.0 || e > 0.0)
		{
			double		af = a < SF_PSI_FLOOR ? SF_PSI_FLOOR : a;
			double		ef = e < SF_PSI_FLOOR ? SF_PSI_FLOOR : e;

			term = (af - ef) * log(af / ef);
		}
		if (actual)
			actual[k] = a;
		if (contrib)
			contrib[k] = term;
		psi += term;
	}
	return psi;
}

/* ------------------------------------------------------------ bytes */

static void
put_dist(const sf_dist *d, sf_buf *b)
{
	sf_buf_put_u32(b, d->n_bins);
	sf_buf_put_f64s(b, d->edges, d->n_bins - 1);
	sf_buf_put_f64s(b, d->share, d->n_bins);
	sf_buf_put_f64(b, d->missing);
}

void
sf_drift_encode(const sf_drift *d, sf_buf *b)
{
	uint32_t	j;

	sf_buf_put_u32(b, SF_DRIFT_VERSION);
	sf_buf_put_u8(b, (uint8_t) d->scale);
	sf_buf_put_u64(b, d->rows);
	put_dist(&d->score, b);
	sf_buf_put_u32(b, d->n_features);
	for (j = 0; j < d->n_features; j++)
		put_dist(&d->features[j], b);
}

/* Read and check one distribution; what names it in messages. */
static sf_status
get_dist(sf_env *env, sf_reader *r, sf_dist *d, const char *what, uint32_t j)
{
	uint32_t	k;
	double		sum;

	memset(d, 0, sizeof(*d));
	d->n_bins = sf_read_u32(r);
	if (!sf_reader_ok(r) || d->n_bins < 1 || d->n_bins > SF_DRIFT_MAX_BINS)
		return sf_fail(env, SF_ECORRUPT, "drift section: %s %u has %u bins, 1 to %d are valid",
					   what, (unsigned) j, (unsigned) d->n_bins, SF_DRIFT_MAX_BINS);
	if (!sf_reader_has(r, 2 * (uint64_t) d->n_bins, 8))
		return sf_fail(env, SF_ECORRUPT, "drift section is truncated in %s %u", what, (unsigned) j);
	d->edges = sf_calloc(env, d->n_bins, sizeof(double));
	d->share = sf_calloc(env, d->n_bins, sizeof(double));
	if (d->edges == NULL || d->share == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding the drift section");
	sf_read_f64s(r, d->edges, d->n_bins - 1);
	sf_read_f64s(r, d->share, d->n_bins);
	d->missing = sf_read_f64(r);
	if (!sf_reader_ok(r))
		return sf_fail(env, SF_ECORRUPT, "drift section is truncated in %s %u", what, (unsigned) j);
	for (k = 0; k + 1 < d->n_bins; k++)
		if (!isfinite(d->edges[k]) || (k > 0 && !(d->edges[k] > d->edges[k - 1])))
			return sf_fail(env, SF_ECORRUPT,
						   "drift section: the edges of %s %u are not finite and increasing",
						   what, (unsigned) j);
	sum = d->missing;
	if (!(d->missing >= 0.0 && d->missing <= 1.0))
		return sf_fail(env, SF_ECORRUPT, "drift section: a share of %s %u is outside [0, 1]",
					   what, (unsigned) j);
	for (k = 0; k < d->n_bins; k++)
	{
		if (!(d->share[k] >= 0.0 && d->share[k] <= 1.0))
			return sf_fail(env, SF_ECORRUPT, "drift section: a share of %s %u is outside [0, 1]",
						   what, (unsigned) j);
		sum += d->share[k];
	}
	if (fabs(sum - 1.0) > SF_SHARE_SLACK * (d->n_bins + 1))
		return sf_fail(env, SF_ECORRUPT, "drift section: the shares of %s %u sum to %.17g, not 1",
					   what, (unsigned) j, sum);
	return SF_OK;
}

sf_status
sf_drift_decode(sf_env *env, const uint8_t *data, size_t len, uint32_t n_features, sf_drift *out)
{
	sf_reader	r;
	uint32_t	version,
				j;
	sf_status	st;

	memset(out, 0, sizeof(*out));
	sf_reader_init(&r, data, len);
	version = sf_read_u32(&r);
	out->scale = sf_read_u8(&r);
	out->rows = sf_read_u64(&r);
	if (!sf_reader_ok(&r))
		return sf_fail(env, SF_ECORRUPT, "drift section is truncated");
	if (version != SF_DRIFT_VERSION)
		return sf_fail(env, SF_ECORRUPT, "drift section has version %u, this scfrisk reads %d",
					   (unsigned) version, SF_DRIFT_VERSION);
	if (out->scale != SF_SCALE_IDENTITY && out->scale != SF_SCALE_LOGIT)
		return sf_fail(env, SF_ECORRUPT, "drift section has unknown score scale %d", out->scale);
	if (out->rows == 0)
		return sf_fail(env, SF_ECORRUPT, "drift section counts no rows");
	if ((st = get_dist(env, &r, &out->score, "score", 0)) != SF_OK)
		return st;
	out->n_features = sf_read_u32(&r);
	if (!sf_reader_ok(&r) || out->n_features != n_features)
		return sf_fail(env, SF_ECORRUPT, "drift section describes %u features, the model has %u",
					   (unsigned) out->n_features, (unsigned) n_features);
	/* each distribution takes at least 20 bytes: bounds the allocation */
	if (!sf_reader_has(&r, n_features, 20))
		return sf_fail(env, SF_ECORRUPT, "drift section is truncated in its features");
	out->features = sf_calloc(env, n_features > 0 ? n_features : 1, sizeof(sf_dist));
	if (out->features == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding the drift section");
	for (j = 0; j < n_features; j++)
		if ((st = get_dist(env, &r, &out->features[j], "feature", j + 1)) != SF_OK)
			return st;
	if (sf_reader_left(&r) != 0)
		return sf_fail(env, SF_ECORRUPT, "drift section has %zu trailing bytes", sf_reader_left(&r));
	return SF_OK;
}

void
sf_drift_free(sf_env *env, sf_drift *d)
{
	uint32_t	j;

	sf_dist_free(env, &d->score);
	if (d->features)
		for (j = 0; j < d->n_features; j++)
			sf_dist_free(env, &d->features[j]);
	sf_free(env, d->features);
	d->features = NULL;
}

sf_status
sf_drift_check(sf_env *env, const uint8_t *data, size_t len, uint32_t n_features)
{
	sf_drift	d;
	sf_status	st = sf_drift_decode(env, data, len, n_features, &d);

	sf_drift_free(env, &d);
	return st;
}
