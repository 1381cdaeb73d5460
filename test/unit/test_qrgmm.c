/*
 * test_qrgmm.c
 *	  Unit tests of the QRGMM model core (src/qrgmm/qrgmm.c, src/qrgmm/qrgmm_codec.c):
 *	  a fit on the authors' Test Problem 1 (normal, heteroscedastic, linear
 *	  quantiles) recovers the true conditional quantiles at x0 = (6, 1, 2)
 *	  within a tolerance of a few standard errors; the polynomial basis
 *	  matches its definition; bytes are deterministic and round-trip; every
 *	  data error of issue 5 gives its status; the decoder rejects mutations.
 */
#include <string.h>

#include "scfrisk/qrgmm.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

/* inverse of the standard normal CDF (Acklam's rational approximation, 1e-9) */
static double
norm_ppf(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
	1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
	6.680131188771972e+01, -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
	-2.549671010050924e+00, 4.374664141464968e+00, 2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
	3.754408661907416e+00};
	double		q,
				r;

	if (p < 0.02425)
	{
		q = sqrt(-2 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	if (p > 1 - 0.02425)
		return -norm_ppf(1 - p);
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

static void
tp1(sf_rng *rng, double *X, double *S, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		double		x1 = 10 * sf_rng_uniform(rng),
					x2 = 10 * sf_rng_uniform(rng) - 5,
					x3 = 5 * sf_rng_uniform(rng);

		X[i * 3] = x1;
		X[i * 3 + 1] = x2;
		X[i * 3 + 2] = x3;
		S[i] = 5 + x1 + 2 * x2 + 0.5 * x3 + (1 + 0.1 * x1 + 0.2 * x2 + 0.05 * x3) * sf_rng_normal(rng);
	}
}

SF_TEST(test_tp1_fit)
{
	sf_env		env;
	sf_rng		rng;
	size_t		n = 4000;
	double	   *X = malloc(n * 3 * sizeof(double));
	double	   *S = malloc(n * sizeof(double));
	sf_qrgmm_params params;
	sf_qrgmm_model *model,
			   *back;
	sf_qcurve	c;
	double		x0[3] = {6, 1, 2};
	double		mean = 5 + 6 + 2 + 1,
				sd = 1 + 0.6 + 0.2 + 0.1;
	double		maxerr = 0.0;
	int			j;
	sf_buf		b1,
				b2,
				b3;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 11, 0);
	tp1(&rng, X, S, n);
	sf_params_defaults(&sf_qrgmm_param_table, &params);
	params.m = 20;
	params.transform = 1;		/* identity */
	params.tail = SF_TAIL_FLAT; /* the paper's tails: the default is exponential */
	SF_OK(sf_qrgmm_fit(&env, &params, X, S, n, 3, &model) == SF_OK, "fit TP1: %s", env.msg ? env.msg : "");
	SF_OK(model->m == 20 && model->p == 4, "m and p");
	{
		/* the blocked product (four levels side by side) against one plain dot product per level */
		double		q[19],
					basis[4];
		int			bad = 0,
					k;

		sf_qrgmm_quantiles(model, x0, q);
		sf_qrgmm_basis(3, model->degree, x0, basis);
		for (j = 0; j < 19; j++)
		{
			double		v = 0.0;

			for (k = 0; k < 4; k++)
				v += model->coef[j * 4 + k] * basis[k];
			if (memcmp(&v, &q[j], sizeof(double)) != 0)
				bad++;
		}
		SF_OK(bad == 0, "19 quantiles (4 blocks of 4 and 3 more) equal the plain dot products bit for bit (%d off)",
			  bad);
	}
	SF_OK(sf_qrgmm_curve(&env, model, x0, &c) == SF_OK, "curve at x0");
	for (j = 1; j < 20; j++)
	{
		double		truth = mean + sd * norm_ppf(j / 20.0);
		double		err = fabs(sf_qcurve_quantile(&c, j / 20.0) - truth);

		if (err > maxerr)
			maxerr = err;
	}
	/* standard error of a quantile at n = 4000 with sd 1.9 is below 0.1 */
	SF_OK(maxerr < 0.35, "fitted quantiles at x0 within 0.35 of the truth (max %.4f)", maxerr);
	sf_qcurve_free(&env, &c);

	/* linear and exponential tails: the same fit with another curve rule, a tail section, a round trip */
	for (int rule = SF_TAIL_LINEAR; rule <= SF_TAIL_EXPONENTIAL; rule++)
	{
		sf_qrgmm_model *lin,
				   *lback;
		sf_qcurve	cl;
		sf_buf		bl;
		sf_container cc;

		params.tail = rule;
		SF_OK(sf_qrgmm_fit(&env, &params, X, S, n, 3, &lin) == SF_OK, "fit with tail rule %d", rule);
		SF_OK(memcmp(lin->coef, model->coef, sizeof(double) * 19 * 4) == 0, "tail rule leaves the fit alone");
		SF_OK(sf_qrgmm_curve(&env, lin, x0, &cl) == SF_OK && (int) cl.tail == rule &&
			  cl.qa[0] < cl.qa[1], "curve has a sloped lower tail");
		sf_qcurve_free(&env, &cl);
		sf_buf_init(&bl, &env);
		SF_OK(sf_qrgmm_encode(&env, lin, &bl) == SF_OK, "encode tail rule %d", rule);
		SF_OK(sf_container_decode(&env, bl.data, bl.len, &cc) == SF_OK &&
			  sf_container_find(&cc, QRGMM_TAG_TAIL) != NULL, "the model carries the tail section");
		SF_OK(sf_qrgmm_decode(&env, bl.data, bl.len, &lback) == SF_OK && (int) lback->tail == rule,
			  "decoded model keeps tail rule %d", rule);
		sf_qrgmm_free(&env, lback);
		sf_buf_free(&bl);
		sf_qrgmm_free(&env, lin);
		params.tail = SF_TAIL_FLAT;
	}

	/* deterministic bytes and a round trip */
	sf_buf_init(&b1, &env);
	sf_buf_init(&b2, &env);
	SF_OK(sf_qrgmm_encode(&env, model, &b1) == SF_OK, "encode");
	{
		sf_container cf;

		SF_OK(sf_container_decode(&env, b1.data, b1.len, &cf) == SF_OK &&
			  sf_container_find(&cf, QRGMM_TAG_TAIL) == NULL, "a flat-tail model has no tail section (its bytes are unchanged)");
	}
	SF_OK(sf_qrgmm_decode(&env, b1.data, b1.len, &back) == SF_OK, "decode: %s", env.msg ? env.msg : "");
	back->params_json = NULL;
	SF_OK(memcmp(back->coef, model->coef, sizeof(double) * 19 * 4) == 0, "coefficients round-trip");
	{
		sf_qrgmm_model *again;

		SF_OK(sf_qrgmm_fit(&env, &params, X, S, n, 3, &again) == SF_OK, "refit");
		SF_OK(sf_qrgmm_encode(&env, again, &b2) == SF_OK, "encode refit");
		SF_OK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0, "same data and params, same bytes");
		sf_qrgmm_free(&env, again);
	}
	/* every single-byte mutation of the body is rejected or decodes to a valid model */
	{
		size_t		i;
		int			crashes_avoided = 0;

		for (i = 0; i < b1.len; i += 7)
		{
			sf_qrgmm_model *mm;

			b1.data[i] ^= 0x5a;
			if (sf_qrgmm_decode(&env, b1.data, b1.len, &mm) == SF_OK)
				sf_qrgmm_free(&env, mm);
			else
				crashes_avoided++;
			b1.data[i] ^= 0x5a;
		}
		SF_OK(crashes_avoided > 0, "mutations rejected (%d)", crashes_avoided);
	}
	/* truncations */
	{
		size_t		i;
		int			ok = 1;

		for (i = 0; i < b1.len; i += 13)
		{
			sf_qrgmm_model *mm;

			if (sf_qrgmm_decode(&env, b1.data, i, &mm) == SF_OK)
				ok = 0;
		}
		SF_OK(ok, "every truncation rejected");
	}
	sf_buf_init(&b3, &env);
	sf_buf_free(&b1);
	sf_buf_free(&b2);
	sf_buf_free(&b3);
	sf_qrgmm_free(&env, back);
	sf_qrgmm_free(&env, model);
	free(X);
	free(S);
}

/* Threads across levels: the same bytes for 1, 2 and 3 threads; a cancel stops all. */
static int	cancel_after = 0;
static int
cancel_soon(void *ctx)
{
	(void) ctx;
	return --cancel_after < 0;
}

SF_TEST(test_threads)
{
	sf_env		env;
	sf_rng		rng;
	size_t		n = 3000;
	double	   *X = malloc(n * 3 * sizeof(double));
	double	   *S = malloc(n * sizeof(double));
	sf_qrgmm_params params;
	sf_buf		b[3];
	int			t;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 12, 0);
	tp1(&rng, X, S, n);
	sf_params_defaults(&sf_qrgmm_param_table, &params);
	params.m = 50;
	params.transform = 1;
	for (t = 0; t < 3; t++)
	{
		sf_qrgmm_model *model;

		env.threads = t + 1;
		sf_buf_init(&b[t], &env);
		SF_OK(sf_qrgmm_fit(&env, &params, X, S, n, 3, &model) == SF_OK, "fit with %d threads", t + 1);
		SF_OK(sf_qrgmm_encode(&env, model, &b[t]) == SF_OK, "encode");
		sf_qrgmm_free(&env, model);
	}
	SF_OK(b[0].len == b[1].len && memcmp(b[0].data, b[1].data, b[0].len) == 0, "2 threads: same bytes as 1");
	SF_OK(b[0].len == b[2].len && memcmp(b[0].data, b[2].data, b[0].len) == 0, "3 threads: same bytes as 1");
	for (t = 0; t < 3; t++)
		sf_buf_free(&b[t]);
	/* cancel while workers run */
	{
		sf_qrgmm_model *model;

		env.threads = 2;
		env.interrupt.check = cancel_soon;
		cancel_after = 2;
		SF_OK(sf_qrgmm_fit(&env, &params, X, S, n, 3, &model) == SF_ECANCEL, "threaded fit canceled: %s",
			  env.msg ? env.msg : "");
		env.threads = 1;
		cancel_after = 5;
		SF_OK(sf_qrgmm_fit(&env, &params, X, S, n, 3, &model) == SF_ECANCEL, "single-thread fit canceled");
	}
	free(X);
	free(S);
}

SF_TEST(test_basis)
{
	double		x[2] = {2, 3},
				out[10];
	double		want[10] = {1, 2, 3, 4, 6, 9, 8, 12, 18, 27};
	char		name[32];
	int			i,
				ok = 1;

	SF_OK(sf_qrgmm_basis_size(2, 3) == 10, "cubic basis in 2 covariates has 10 columns");
	SF_OK(sf_qrgmm_basis_size(3, 1) == 4, "linear basis in 3 covariates has 4 columns");
	SF_OK(sf_qrgmm_basis_size(100, 3) == -1, "too wide a basis is refused");
	sf_qrgmm_basis(2, 3, x, out);
	for (i = 0; i < 10; i++)
		if (out[i] != want[i])
			ok = 0;
	SF_OK(ok, "PolynomialFeatures order 1, x1, x2, x1^2, x1x2, x2^2, x1^3, ...");
	sf_qrgmm_basis_name(2, 3, 7, name, sizeof(name));
	SF_OK(strcmp(name, "x1*x1*x2") == 0, "name of column 7: %s", name);
}

SF_TEST(test_errors)
{
	sf_env		env;
	sf_qrgmm_params params;
	sf_qrgmm_model *model;
	double		X[200],
				S[100];
	int			i;
	sf_rng		rng;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 3, 3);
	sf_params_defaults(&sf_qrgmm_param_table, &params);
	for (i = 0; i < 100; i++)
	{
		X[2 * i] = sf_rng_uniform(&rng);
		X[2 * i + 1] = sf_rng_uniform(&rng);
		S[i] = 1 + X[2 * i] + sf_rng_uniform(&rng);
	}
	params.m = 10;
	SF_OK(sf_qrgmm_fit(&env, &params, X, S, 100, 2, &model) == SF_OK, "small fit");
	sf_qrgmm_free(&env, model);
	params.m = 50;
	SF_OK(sf_qrgmm_fit(&env, &params, X, S, 100, 2, &model) == SF_EINVAL &&
		  strstr(env.msg, "largest usable m is 33"), "m too large names the largest m: %s", env.msg);
	params.m = 10;
	S[5] = -2;
	SF_OK(sf_qrgmm_fit(&env, &params, X, S, 100, 2, &model) == SF_EDATA, "log1p below -1: %s", env.msg);
	S[5] = NAN;
	SF_OK(sf_qrgmm_fit(&env, &params, X, S, 100, 2, &model) == SF_EDATA, "NaN response: %s", env.msg);
	S[5] = 1;
	SF_OK(sf_qrgmm_fit(&env, &params, X, S, 2, 2, &model) == SF_EDATA, "p > n: %s", env.msg);
	for (i = 0; i < 100; i++)
		X[2 * i + 1] = X[2 * i];
	SF_OK(sf_qrgmm_fit(&env, &params, X, S, 100, 2, &model) == SF_EDATA && strstr(env.msg, "x2"),
		  "duplicate column: %s", env.msg);
	for (i = 0; i < 100; i++)
		X[2 * i + 1] = 4;
	SF_OK(sf_qrgmm_fit(&env, &params, X, S, 100, 2, &model) == SF_EDATA && strstr(env.msg, "constant"),
		  "constant column: %s", env.msg);
}

int
main(void)
{
	SF_RUN(test_basis);
	SF_RUN(test_tp1_fit);
	SF_RUN(test_errors);
	SF_RUN(test_threads);
	return sf_test_done();
}
