/*
 * test_governance.c
 *	  Unit tests of the governance cores against hand-worked cases and
 *	  closed forms: decile bins and shares, the PSI formula and its floor,
 *	  the drift and calibration sections (round trip and rejections), Platt
 *	  scaling (its likelihood equations hold at the fit), isotonic
 *	  regression (pool-adjacent-violators on a worked example), the
 *	  reliability table, and setting a section of a model.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/gbt.h"
#include "scfrisk/sf_governance.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

static sf_env env;

SF_TEST(test_dist)
{
	/* 0..99 and 10 missing: order statistics at k/10 of 100 values are 10, 20, ..., 90 */
	double		v[110];
	sf_dist		d;
	int			i,
				ok = 1;

	for (i = 0; i < 100; i++)
		v[i] = i;
	for (i = 100; i < 110; i++)
		v[i] = NAN;
	SF_OK(sf_dist_build(&env, v, 110, 1, 10, &d) == SF_OK, "build");
	SF_OK(d.n_bins == 10, "10 bins (%u)", d.n_bins);
	for (i = 0; i < 9; i++)
		ok &= d.edges[i] == 10.0 * (i + 1);
	SF_OK(ok, "edges 10, 20, ..., 90");
	SF_NEAR(d.share[0], 10.0 / 110, 1e-15, "first bin holds 0..9 of 110 rows");
	SF_NEAR(d.missing, 10.0 / 110, 1e-15, "missing share");
	SF_OK(sf_dist_bin(&d, 9.999) == 0 && sf_dist_bin(&d, 10) == 1 && sf_dist_bin(&d, 1e9) == 9 &&
		  sf_dist_bin(&d, -1e9) == 0 && sf_dist_bin(&d, NAN) == 10, "an edge belongs to the bin above it");
	sf_dist_free(&env, &d);

	/* ties collapse edges: five values, two distinct */
	{
		double		w[5] = {1, 1, 1, 1, 2};

		SF_OK(sf_dist_build(&env, w, 5, 1, 10, &d) == SF_OK, "build with ties");
		SF_OK(d.n_bins == 2 && d.edges[0] == 2.0, "ties leave one edge (%u bins)", d.n_bins);
		SF_NEAR(d.share[0], 0.8, 1e-15, "share below the edge");
		sf_dist_free(&env, &d);
	}
	/* stride reads a column of a row-major matrix; all missing gives one empty bin */
	{
		double		x[6] = {NAN, 5, NAN, 6, NAN, 7};

		SF_OK(sf_dist_build(&env, x, 3, 2, 10, &d) == SF_OK && d.n_bins == 1 && d.missing == 1.0,
			  "an all-missing column: one bin, missing share 1");
		sf_dist_free(&env, &d);
	}
}

SF_TEST(test_psi)
{
	double		edges[1] = {0.0};
	double		share[2] = {0.5, 0.5};
	sf_dist		d = {2, edges, share, 0.0};
	uint64_t	c1[3] = {50, 50, 0},
				c2[3] = {80, 20, 0},
				c3[3] = {100, 0, 0};
	double		act[3],
				con[3];
	double		expect;

	SF_NEAR(sf_psi(&d, c1, NULL, NULL), 0.0, 0, "same shares: 0");
	expect = (0.8 - 0.5) * log(0.8 / 0.5) + (0.2 - 0.5) * log(0.2 / 0.5);
	SF_NEAR(sf_psi(&d, c2, act, con), expect, 1e-15, "80/20 against 50/50");
	SF_NEAR(con[0] + con[1] + con[2], expect, 1e-15, "contributions add up");
	SF_OK(act[2] == 0.0 && con[2] == 0.0, "the missing slot empty on both sides adds 0");
	expect = (1.0 - 0.5) * log(1.0 / 0.5) + (SF_PSI_FLOOR - 0.5) * log(SF_PSI_FLOOR / 0.5);
	SF_NEAR(sf_psi(&d, c3, NULL, NULL), expect, 1e-15, "an empty live bin counts as the floor");
	{
		uint64_t	z[3] = {0, 0, 0};

		SF_OK(isnan(sf_psi(&d, z, NULL, NULL)), "no rows: NaN");
	}
}

/* A drift section of two features, encoded, decoded and checked. */
SF_TEST(test_drift_bytes)
{
	double		v[8] = {1, 2, 3, 4, 5, 6, 7, NAN};
	sf_drift	d,
				back;
	sf_buf		b;
	uint8_t    *bad;

	memset(&d, 0, sizeof(d));
	d.scale = SF_SCALE_LOGIT;
	d.rows = 8;
	d.n_features = 2;
	d.features = sf_calloc(&env, 2, sizeof(sf_dist));
	SF_OK(sf_dist_build(&env, v, 8, 1, 10, &d.score) == SF_OK &&
		  sf_dist_build(&env, v, 8, 1, 4, &d.features[0]) == SF_OK &&
		  sf_dist_build(&env, v, 4, 2, 10, &d.features[1]) == SF_OK, "three distributions");
	sf_buf_init(&b, &env);
	sf_drift_encode(&d, &b);
	SF_OK(sf_drift_decode(&env, b.data, b.len, 2, &back) == SF_OK, "round trip decodes");
	SF_OK(back.scale == SF_SCALE_LOGIT && back.rows == 8 && back.features[0].n_bins == d.features[0].n_bins &&
		  back.features[0].edges[0] == d.features[0].edges[0] && back.score.missing == d.score.missing,
		  "round trip keeps every field");
	sf_drift_free(&env, &back);
	SF_OK(sf_drift_decode(&env, b.data, b.len, 3, &back) == SF_ECORRUPT, "another width is refused: %s", env.msg);
	sf_drift_free(&env, &back);
	SF_OK(sf_drift_decode(&env, b.data, b.len - 1, 2, &back) == SF_ECORRUPT, "truncated: %s", env.msg);
	sf_drift_free(&env, &back);
	/* a share above 1: byte 0x7F into the high byte of the first score share */
	bad = sf_malloc(&env, b.len);
	memcpy(bad, b.data, b.len);
	bad[4 + 1 + 8 + 4 + 8 * (d.score.n_bins - 1) + 7] = 0x7F;
	SF_OK(sf_drift_decode(&env, bad, b.len, 2, &back) == SF_ECORRUPT, "a bad share is refused: %s", env.msg);
	sf_drift_free(&env, &back);
	/* edges out of order */
	memcpy(bad, b.data, b.len);
	if (d.score.n_bins >= 3)
	{
		double		hi = 1e300;
		size_t		at = 4 + 1 + 8 + 4;
		uint64_t	bits;
		int			k;

		memcpy(&bits, &hi, 8);
		for (k = 0; k < 8; k++)
			bad[at + k] = (uint8_t) (bits >> (8 * k));
		SF_OK(sf_drift_decode(&env, bad, b.len, 2, &back) == SF_ECORRUPT, "edges out of order: %s", env.msg);
		sf_drift_free(&env, &back);
	}
	sf_free(&env, bad);
	sf_buf_free(&b);
	sf_drift_free(&env, &d);
}

SF_TEST(test_platt)
{
	/* margins and labels that overlap, so the optimum is finite */
	double		f[12] = {-3, -2, -1.5, -1, -0.5, 0, 0.2, 0.5, 1, 1.5, 2, 3};
	double		y[12] = {0, 0, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1};
	double		n1 = 6, n0 = 6, hi = (n1 + 1) / (n1 + 2), lo = 1 / (n0 + 2);
	double		g1 = 0, g2 = 0;
	sf_calib	c;
	int			i;

	SF_OK(sf_calib_fit_platt(&env, f, y, 12, &c) == SF_OK, "fit");
	/* the likelihood equations: sum (t - p) f = 0 and sum (t - p) = 0 at the fit */
	for (i = 0; i < 12; i++)
	{
		double		p = 1.0 / (1.0 + exp(c.a * f[i] + c.b));
		double		t = y[i] > 0 ? hi : lo;

		g1 += (t - p) * f[i];
		g2 += t - p;
	}
	SF_NEAR(g1, 0, 1e-9, "score equation of a");
	SF_NEAR(g2, 0, 1e-9, "score equation of b");
	SF_OK(c.a < 0, "a < 0: probability rises with the margin (a = %g)", c.a);
	SF_NEAR(sf_calib_apply(&c, 0.7), 1.0 / (1.0 + exp(c.a * 0.7 + c.b)), 1e-15, "apply");
	SF_OK(sf_calib_apply(&c, INFINITY) == 1.0 && sf_calib_apply(&c, -INFINITY) == 0.0, "infinite margins");
	{
		double		one[3] = {1, 1, 1};

		SF_OK(sf_calib_fit_platt(&env, f, one, 3, &c) == SF_EDATA, "one class: %s", env.msg);
		f[2] = NAN;
		SF_OK(sf_calib_fit_platt(&env, f, y, 12, &c) == SF_EDATA, "a missing margin: %s", env.msg);
		f[2] = -1.5;
	}
}

SF_TEST(test_isotonic)
{
	/* worked example: y 1 0 | 1 0 0 | 1 at f 1..6 -> PAV blocks {1,2} 0.5, {3,4,5} 1/3 ... */
	double		f[6] = {1, 2, 3, 4, 5, 6};
	double		y[6] = {1, 0, 1, 0, 0, 1};
	double		tf[4] = {1, 1, 2, 3};
	double		ty[4] = {1, 0, 0, 1};
	sf_calib	c;

	/* PAV: [1] [0] -> {1,2}=0.5; [1] -> 0.5,1; [0] -> {3,4}=0.5 merges with {1,2}: {1..4}=0.5;
	 * [0] -> {1..5}=0.4; [1] -> 0.4, 1 */
	SF_OK(sf_calib_fit_isotonic(&env, f, y, 6, &c) == SF_OK, "fit");
	SF_OK(c.n == 3 && c.x[0] == 1 && c.x[1] == 5 && c.x[2] == 6, "knots at both ends of the blocks (%u)", c.n);
	SF_NEAR(c.y[0], 0.4, 1e-15, "first block mean 2/5");
	SF_NEAR(c.y[2], 1.0, 0, "last block");
	SF_NEAR(sf_calib_apply(&c, 3), 0.4, 1e-15, "inside a block");
	SF_NEAR(sf_calib_apply(&c, 5.5), 0.7, 1e-15, "linear between blocks");
	SF_NEAR(sf_calib_apply(&c, -10), 0.4, 0, "clipped below");
	SF_NEAR(sf_calib_apply(&c, 10), 1.0, 0, "clipped above");
	sf_calib_free(&env, &c);
	/* ties of f are pooled first: f = 1 has mean 0.5 */
	SF_OK(sf_calib_fit_isotonic(&env, tf, ty, 4, &c) == SF_OK, "fit with ties");
	SF_NEAR(sf_calib_apply(&c, 1), 1.0 / 3, 1e-15, "tie pooled then merged with the next point");
	SF_NEAR(sf_calib_apply(&c, 3), 1.0, 0, "top point");
	sf_calib_free(&env, &c);
}

SF_TEST(test_calib_bytes)
{
	double		f[6] = {1, 2, 3, 4, 5, 6};
	double		y[6] = {0, 1, 0, 1, 1, 1};
	sf_calib	c,
				back;
	sf_buf		b;

	SF_OK(sf_calib_fit_isotonic(&env, f, y, 6, &c) == SF_OK, "fit");
	sf_buf_init(&b, &env);
	sf_calib_encode(&c, &b);
	SF_OK(sf_calib_decode(&env, b.data, b.len, &back) == SF_OK && back.n == c.n &&
		  back.x[1] == c.x[1] && back.y[1] == c.y[1], "isotonic round trip");
	sf_calib_free(&env, &back);
	b.data[4] = 7;
	SF_OK(sf_calib_decode(&env, b.data, b.len, &back) == SF_ECORRUPT, "unknown method: %s", env.msg);
	sf_calib_free(&env, &back);
	b.data[4] = SF_CALIB_ISOTONIC;
	SF_OK(sf_calib_decode(&env, b.data, b.len - 3, &back) == SF_ECORRUPT, "truncated: %s", env.msg);
	sf_calib_free(&env, &back);
	sf_buf_free(&b);
	sf_calib_free(&env, &c);
}

SF_TEST(test_table)
{
	uint64_t	count[4] = {0};
	double		sp[4] = {0},
				sy[4] = {0},
				mean[4],
				rate[4],
				ece,
				mce;
	double		p[5] = {0.1, 0.25, 0.3, 0.8, 1.0};
	double		y[5] = {0, 1, 0, 1, 1};
	int			i;

	for (i = 0; i < 5; i++)
	{
		uint32_t	k = sf_calib_table_bin(4, p[i]);

		count[k]++;
		sp[k] += p[i];
		sy[k] += y[i];
	}
	SF_OK(count[0] == 2 && count[1] == 1 && count[2] == 0 && count[3] == 2,
		  "0.25 on an inner edge falls in the lower bin, 1.0 in the last");
	sf_calib_table(4, count, sp, sy, mean, rate, &ece, &mce);
	SF_NEAR(mean[0], 0.175, 1e-15, "mean score of bin 1");
	SF_NEAR(rate[0], 0.5, 0, "observed rate of bin 1");
	SF_OK(isnan(mean[2]) && isnan(rate[2]), "an empty bin has no means");
	SF_NEAR(ece, 0.4 * 0.325 + 0.2 * 0.3 + 0.4 * 0.1, 1e-15, "ECE weighted by rows");
	SF_NEAR(mce, 0.325, 1e-15, "MCE the largest gap");
}

/* A minimal gbt-like container to set sections in. */
SF_TEST(test_set_section)
{
	sf_buf		m,
				out,
				out2;
	sf_container c;
	const uint8_t data[3] = {1, 2, 3};
	double		f[4] = {0, 1, 2, 3},
				y[4] = {0, 1, 0, 1};
	sf_calib	cal;
	sf_buf		sec;

	sf_buf_init(&m, &env);
	sf_container_begin(&m, SF_KIND_LOGREG, 2);
	sf_section_put_u64(&m, SF_TAG_TRAIN_ROWS, 4);
	sf_section_put_text(&m, SF_TAG_INFO, "{}", 2);
	sf_section_put_text(&m, SF_TAG_BODY, "body", 4);
	SF_OK(sf_container_finish(&m) == SF_OK, "model");
	SF_OK(sf_calib_fit_isotonic(&env, f, y, 4, &cal) == SF_OK, "a map");
	sf_buf_init(&sec, &env);
	sf_calib_encode(&cal, &sec);
	sf_buf_init(&out, &env);
	SF_OK(sf_container_set_section(&env, m.data, m.len, SF_TAG_CALIBRATION, sec.data, sec.len, &out) == SF_OK,
		  "inserted");
	SF_OK(sf_container_decode(&env, out.data, out.len, &c) == SF_OK && c.n_sections == 4 &&
		  c.sections[2].tag == SF_TAG_CALIBRATION && c.sections[3].tag == SF_TAG_BODY,
		  "in tag order, between the common sections and the body");
	sf_buf_init(&out2, &env);
	SF_OK(sf_container_set_section(&env, out.data, out.len, SF_TAG_CALIBRATION, sec.data, sec.len, &out2) == SF_OK &&
		  out2.len == out.len && memcmp(out2.data, out.data, out.len) == 0, "setting it again replaces it");
	sf_buf_free(&out2);
	sf_buf_init(&out2, &env);
	SF_OK(sf_container_set_section(&env, out.data, out.len, SF_TAG_CALIBRATION, data, 3, &out2) == SF_OK &&
		  sf_container_decode(&env, out2.data, out2.len, &c) == SF_ECORRUPT,
		  "a malformed section does not decode: %s", env.msg);
	out.data[out.len - 1] ^= 1;
	sf_buf_free(&out2);
	sf_buf_init(&out2, &env);
	SF_OK(sf_container_set_section(&env, out.data, out.len, SF_TAG_CALIBRATION, sec.data, sec.len, &out2) == SF_ECORRUPT,
		  "damaged bytes are not rewritten: %s", env.msg);
	sf_buf_free(&out2);
	sf_buf_free(&out);
	sf_buf_free(&sec);
	sf_buf_free(&m);
	sf_calib_free(&env, &cal);
}

/* monotone_constraints: an any-length integer list in the params, kept in the JSON */
SF_TEST(test_monotone_param)
{
	gbt_params	p = gbt_params_default();
	const sf_param_spec *s = sf_params_find(&gbt_params_table, "monotone_constraints", 20);
	double		v[3] = {1, -1, 0},
				bad[1] = {2};
	double		many[40];
	sf_buf		b;
	int			i;

	SF_OK(s != NULL && p.monotone_constraints.n == 0, "a key of xgb_train, empty by default");
	SF_OK(sf_params_set_int_list(&env, s, &p, "monotone_constraints", v, 3) == SF_OK &&
		  p.monotone_constraints.n == 3 && p.monotone_constraints.v[1] == -1, "set");
	sf_buf_init(&b, &env);
	sf_params_to_json(&gbt_params_table, &p, &b);
	sf_buf_put_u8(&b, 0);
	SF_OK(strstr((const char *) b.data, "\"monotone_constraints\": [1, -1, 0]") != NULL, "in the canonical JSON");
	sf_buf_free(&b);
	SF_OK(sf_params_set_int_list(&env, s, &p, "monotone_constraints", bad, 1) == SF_EINVAL,
		  "2 is refused: %s", env.msg);
	for (i = 0; i < 40; i++)
		many[i] = i % 3 - 1;
	SF_OK(sf_params_set_int_list(&env, s, &p, "monotone_constraints", many, 40) == SF_OK &&
		  p.monotone_constraints.n == 40, "longer than the 32 of fixed lists");
	sf_params_free(&env, &gbt_params_table, &p);
	SF_OK(p.monotone_constraints.v == NULL && p.monotone_constraints.n == 0, "freed");
}

/* The tree core keeps the constraints on every pair of grid points. */
SF_TEST(test_monotone_train)
{
	size_t		n = 2000,
				i;
	double	   *x = sf_malloc(&env, sizeof(double) * n * 2),
			   *y = sf_malloc(&env, sizeof(double) * n);
	double		cons[2] = {1, -1};
	gbt_params	p = gbt_params_default();
	gbt_model  *m;
	sf_rng		rng;
	int			a,
				c,
				bad = 0;

	sf_rng_init(&rng, 17, 0);
	for (i = 0; i < n; i++)
	{
		x[2 * i] = 4 * sf_rng_uniform(&rng) - 2;
		x[2 * i + 1] = 4 * sf_rng_uniform(&rng) - 2;
		/* wiggles against the constraints: sin terms */
		y[i] = (x[2 * i] + sin(4 * x[2 * i]) - x[2 * i + 1] - sin(4 * x[2 * i + 1]) +
				sf_rng_normal(&rng) > 0) ? 1 : 0;
	}
	p.n_estimators = 30;
	p.max_depth = 4;
	SF_OK(sf_params_set_int_list(&env, sf_params_find(&gbt_params_table, "monotone_constraints", 20), &p,
								 "monotone_constraints", cons, 2) == SF_OK, "constraints (1, -1)");
	SF_OK(gbt_train(&env, x, y, NULL, n, 2, &p, &m) == SF_OK, "train");
	for (a = 0; a < 40; a++)
		for (c = 0; c < 40; c++)
		{
			double		u[2] = {-2 + a * 0.1, -2 + c * 0.1},
						up[2] = {-2 + (a + 1) * 0.1, -2 + c * 0.1},
						rt[2] = {-2 + a * 0.1, -2 + (c + 1) * 0.1};
			double		m0 = gbt_predict_margin(m, u);

			bad += gbt_predict_margin(m, up) < m0;
			bad += gbt_predict_margin(m, rt) > m0;
		}
	SF_OK(bad == 0, "margin non-decreasing in x1, non-increasing in x2 on a 40 x 40 grid (%d violations)", bad);
	gbt_model_free(&env, m);
	sf_params_free(&env, &gbt_params_table, &p);
	/* without the constraints the same data gives violations: the check can fail */
	p = gbt_params_default();
	p.n_estimators = 30;
	p.max_depth = 4;
	SF_OK(gbt_train(&env, x, y, NULL, n, 2, &p, &m) == SF_OK, "train unconstrained");
	bad = 0;
	for (a = 0; a < 40; a++)
	{
		double		u[2] = {-2 + a * 0.1, 0},
					up[2] = {-2 + (a + 1) * 0.1, 0};

		bad += gbt_predict_margin(m, up) < gbt_predict_margin(m, u);
	}
	SF_OK(bad > 0, "unconstrained: %d violations along x1", bad);
	gbt_model_free(&env, m);
	p.monotone_constraints.n = 3;	/* longer than the width (v unused before the check) */
	SF_OK(gbt_train(&env, x, y, NULL, n, 2, &p, &m) == SF_EINVAL, "too many constraints: %s", env.msg);
	sf_free(&env, x);
	sf_free(&env, y);
}

static int
cmp_dbl(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * sf_dist_build finds its order statistics by selection, not a sort: the
 * edges and shares must be those of the sorted values (the rule in the
 * comment of sf_dist_build, computed here on a qsort), for data made to
 * break selection: ties, sorted and reversed runs, organ pipes, infinities,
 * a single value, sizes around the small-range cut-off.
 */
SF_TEST(test_dist_selection)
{
	static const size_t sizes[] = {1, 2, 7, 16, 17, 33, 100, 1000, 4097, 100000};
	sf_rng		rng;
	int			shape,
				bad = 0,
				cases = 0;
	size_t		si;

	sf_rng_init(&rng, 11, 0);
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (shape = 0; shape < 7; shape++)
		{
			size_t		n = sizes[si],
						i,
						m = 0;
			double	   *v = sf_malloc(&env, n * sizeof(double)),
					   *s = sf_malloc(&env, n * sizeof(double));
			uint32_t	nq = (shape % 2) ? 64 : 10,
						k,
						ne = 0;
			double		edges[64],
						share[65] = {0};
			sf_dist		d;

			for (i = 0; i < n; i++)
			{
				double		u = sf_rng_uniform(&rng);

				switch (shape)
				{
					case 0: v[i] = u; break;
					case 1: v[i] = (double) sf_rng_below(&rng, 4); break;		/* ties */
					case 2: v[i] = (double) i; break;						/* sorted */
					case 3: v[i] = (double) (n - i); break;					/* reversed */
					case 4: v[i] = (double) (i < n / 2 ? i : n - i); break;	/* organ pipe */
					case 5: v[i] = u < 0.1 ? -INFINITY : u > 0.9 ? INFINITY : u < 0.2 ? NAN : u; break;
					default: v[i] = 3.0; break;								/* one value */
				}
			}
			/* the reference: sort the present values, then the documented rule */
			for (i = 0; i < n; i++)
				if (!isnan(v[i]))
					s[m++] = v[i];
			qsort(s, m, sizeof(double), cmp_dbl);
			for (k = 1; m > 0 && k < nq; k++)
			{
				double		e = s[(size_t) ((double) k * (double) m / nq)];

				if (isfinite(e) && e > s[0] && (ne == 0 || e > edges[ne - 1]))
					edges[ne++] = e;
			}
			if (sf_dist_build(&env, v, n, 1, nq, &d) != SF_OK || d.n_bins != ne + 1)
				bad++;
			else
			{
				for (k = 0; k < ne; k++)
					bad += d.edges[k] != edges[k];
				for (i = 0; i < m; i++)
					share[sf_dist_bin(&d, s[i])] += 1.0;
				for (k = 0; k < d.n_bins; k++)
					bad += d.share[k] != share[k] / (double) n;
				sf_dist_free(&env, &d);
			}
			cases++;
			sf_free(&env, v);
			sf_free(&env, s);
		}
	SF_OK(bad == 0, "edges and shares equal a sort's in %d cases of 7 shapes (%d differences)", cases, bad);
}

SF_TEST(test_dist_on_edges)
{
	/* 0..9 and one missing on edges 2.5, 5: bins {0,1,2}, {3,4}, {5..9} */
	double		v[11],
				e[2] = {2.5, 5.0},
				bad[2] = {5.0, 2.5};
	sf_dist		d;
	int			i;

	for (i = 0; i < 10; i++)
		v[i] = i;
	v[10] = NAN;
	SF_OK(sf_dist_build_on(&env, v, 11, 1, e, 2, &d) == SF_OK, "build on edges");
	SF_OK(d.n_bins == 3 && d.edges[0] == 2.5 && d.edges[1] == 5.0, "3 bins on the given edges");
	SF_NEAR(d.share[0], 3.0 / 11, 1e-15, "0, 1, 2 below 2.5");
	SF_NEAR(d.share[1], 2.0 / 11, 1e-15, "3, 4 in [2.5, 5)");
	SF_NEAR(d.share[2], 5.0 / 11, 1e-15, "5 .. 9 from 5 on (x < threshold goes left)");
	SF_NEAR(d.missing, 1.0 / 11, 1e-15, "missing share");
	sf_dist_free(&env, &d);
	SF_OK(sf_dist_build_on(&env, v, 11, 1, bad, 2, &d) == SF_EINVAL, "decreasing edges refused");
	SF_OK(sf_dist_build_on(&env, v, 11, 1, e, 0, &d) == SF_OK && d.n_bins == 1, "no edge: one bin");
	sf_dist_free(&env, &d);
}

SF_TEST(test_tree_edges)
{
	/* two stumps and a tree of three splits: feature 0 at 1.5 (twice) and 3, feature 2 at -1 */
	int32_t		l0[3],
				r0[3],
				l1[5],
				r1[5];
	uint32_t	f0[3] = {0},
				f1[5] = {0};
	float		c0[3] = {0},
				c1[5] = {0};
	gbt_tree	t[2];
	uint32_t   *off;
	double	   *edges;

	memset(t, 0, sizeof(t));
	t[0].n_nodes = 3, t[0].left = l0, t[0].right = r0, t[0].split_index = f0, t[0].split_cond = c0;
	t[1].n_nodes = 5, t[1].left = l1, t[1].right = r1, t[1].split_index = f1, t[1].split_cond = c1;
	t[0].left[0] = 1, t[0].right[0] = 2, t[0].split_index[0] = 0, t[0].split_cond[0] = 1.5f;
	t[0].left[1] = t[0].right[1] = t[0].left[2] = t[0].right[2] = -1;
	t[1].left[0] = 1, t[1].right[0] = 2, t[1].split_index[0] = 2, t[1].split_cond[0] = -1.0f;
	t[1].left[1] = 3, t[1].right[1] = 4, t[1].split_index[1] = 0, t[1].split_cond[1] = 3.0f;
	t[1].left[2] = t[1].right[2] = -1;
	t[1].split_index[2] = 0, t[1].split_cond[2] = 1.5f;	/* a leaf: its value is no threshold */
	t[1].left[3] = t[1].right[3] = t[1].left[4] = t[1].right[4] = -1;
	SF_OK(sf_drift_tree_edges(&env, t, 2, 3, &off, &edges) == SF_OK, "collect");
	SF_OK(off[0] == 0 && off[1] == 2 && off[2] == 2 && off[3] == 3, "2, 0 and 1 thresholds per feature");
	SF_OK(edges[0] == 1.5 && edges[1] == 3.0 && edges[2] == -1.0, "sorted, distinct, leaves left out");
	sf_free(&env, off);
	sf_free(&env, edges);
}

/* A "model" for the out-of-fold test: the training rows' label mean, whatever the row. */
static int	fold_calls;

static sf_status
mean_fit(void *ctx, sf_env *e, const double *x, const double *y, size_t n, const double *xs,
		 size_t ns, double *prob)
{
	double		s = 0.0;
	size_t		i;

	for (i = 0; i < n; i++)
		s += y[i];
	for (i = 0; i < ns; i++)
		prob[i] = s / n;
	fold_calls++;
	return SF_OK;
}

SF_TEST(test_calib_oof)
{
	/* out-of-fold means differ by fold; isotonic on them: every row's map is its fold's rate pooled */
	double		x[200],
				y[200];
	sf_calib	c;
	int			i;

	for (i = 0; i < 200; i++)
	{
		x[i] = i;
		y[i] = (i * 7) % 3 == 0;
	}
	fold_calls = 0;
	SF_OK(sf_calib_fit_oof(&env, x, y, 200, 1, SF_CALIB_ISOTONIC, 4, mean_fit, NULL, &c) == SF_OK,
		  "isotonic on out-of-fold scores");
	SF_OK(fold_calls == 4, "one model per fold (%d)", fold_calls);
	SF_OK(c.method == SF_CALIB_ISOTONIC && c.rows == 200, "map over all 200 rows");
	sf_calib_free(&env, &c);
	SF_OK(sf_calib_fit_oof(&env, x, y, 200, 1, SF_CALIB_PLATT, 4, mean_fit, NULL, &c) == SF_OK, "platt");
	sf_calib_free(&env, &c);
	SF_OK(sf_calib_fit_oof(&env, x, y, 3, 1, SF_CALIB_PLATT, 20, mean_fit, NULL, &c) == SF_EDATA,
		  "20 folds of 3 rows: a fold is empty, SF_EDATA");
	SF_NEAR(sf_calib_margin(1.0), SF_CALIB_MAX_MARGIN, 0, "a probability of 1 is the margin 40");
	SF_NEAR(sf_calib_margin(0.0), -SF_CALIB_MAX_MARGIN, 0, "a probability of 0 is the margin -40");
	SF_NEAR(sf_calib_margin(0.25), log(1.0 / 3.0), 1e-15, "logit inside (0, 1)");
}

int
main(void)
{
	sf_env_init_malloc(&env);
	SF_RUN(test_dist);
	SF_RUN(test_dist_selection);
	SF_RUN(test_psi);
	SF_RUN(test_drift_bytes);
	SF_RUN(test_platt);
	SF_RUN(test_isotonic);
	SF_RUN(test_calib_bytes);
	SF_RUN(test_table);
	SF_RUN(test_set_section);
	SF_RUN(test_monotone_param);
	SF_RUN(test_monotone_train);
	SF_RUN(test_dist_on_edges);
	SF_RUN(test_tree_edges);
	SF_RUN(test_calib_oof);
	return sf_test_done();
}
