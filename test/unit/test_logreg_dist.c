/*
 * test_logreg_dist.c
 *	  The sharded logistic regression's cores (logreg_dist.c) without a
 *	  server: rows dealt to in-process shards, the transport a loop over them.
 *	  Checked against logreg.c on the union of the rows: the merged summary
 *	  (counts, column sums), one step's merged gradient and Hessian sums,
 *	  and the whole fit (coefficients within 1e-8 relative, the same Newton
 *	  iterations where the tolerance is above rounding noise); the stop
 *	  below the objective's rounding noise on rows where the line search
 *	  used to spend up to 100 iterations of ~30 passes each (issue 20); and
 *	  the refusals (widths that differ, one class, bad labels, malformed
 *	  jobs, summaries and replies, a shard that does not answer).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/logreg_dist.h"
#include "sf_test.h"

#define N		900
#define D		4
#define MAX_SHARDS	4

static double X[N * D],
			Y[N];

/* Rows with features on different scales and labels from a logistic model. */
static void
make_rows(void)
{
	uint64_t	s = 12345;
	size_t		i;
	int			j;

	for (i = 0; i < N; i++)
	{
		double		z = 0.3;

		for (j = 0; j < D; j++)
		{
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			X[i * D + j] = ((double) (s >> 11) / 9007199254740992.0 - 0.5) * (j == 1 ? 50.0 : 2.0);
			z += X[i * D + j] * (j == 1 ? 0.04 : 1.0 - 0.4 * j);
		}
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		Y[i] = (double) (s >> 11) / 9007199254740992.0 < 1.0 / (1.0 + exp(-z)) ? 1.0 : 0.0;
	}
}

typedef struct shards
{
	sf_env		env;
	int			ns;
	int			silent;			/* this many shards do not answer */
	double	   *x[MAX_SHARDS],
			   *y[MAX_SHARDS];
	size_t		n[MAX_SHARDS];
	logreg_dist_shard sh[MAX_SHARDS];
	sf_buf		reply[MAX_SHARDS];
	const uint8_t *bufs[MAX_SHARDS];
	size_t		lens[MAX_SHARDS];
	int			jobs;
} shards;

/* Deal row i to shard (i * 5 + i / 7) % ns: interleaved, uneven. */
static void
deal(shards *s, int ns)
{
	size_t		i;
	int			k;

	memset(s, 0, sizeof(*s));
	sf_env_init_malloc(&s->env);
	s->ns = ns;
	for (k = 0; k < ns; k++)
	{
		s->x[k] = malloc(sizeof(double) * N * D);
		s->y[k] = malloc(sizeof(double) * N);
		sf_buf_init(&s->reply[k], &s->env);
	}
	for (i = 0; i < N; i++)
	{
		int			d = (int) ((i * 5 + i / 7) % (size_t) ns);
		size_t		r = s->n[d]++;

		memcpy(s->x[d] + r * D, X + i * D, sizeof(double) * D);
		s->y[d][r] = Y[i];
	}
	for (k = 0; k < ns; k++)
		(void) logreg_dist_shard_init(&s->env, s->x[k], s->y[k], s->n[k], D, &s->sh[k]);
}

static void
undeal(shards *s)
{
	int			k;

	for (k = 0; k < s->ns; k++)
	{
		free(s->x[k]);
		free(s->y[k]);
		sf_buf_free(&s->reply[k]);
	}
}

/* The transport: every shard answers the job in order. */
static sf_status
exchange(void *ctx, const uint8_t *job, size_t len, int *n_rep, const uint8_t *const **rep,
		 const size_t **lens)
{
	shards	   *s = ctx;
	int			k;

	s->jobs++;
	for (k = 0; k < s->ns - s->silent; k++)
	{
		sf_status	st;

		s->reply[k].len = 0;
		if ((st = logreg_dist_shard_step(&s->env, &s->sh[k], job, len, &s->reply[k])) != SF_OK)
			return st;
		s->bufs[k] = s->reply[k].data;
		s->lens[k] = s->reply[k].len;
	}
	*n_rep = s->ns - s->silent;
	*rep = s->bufs;
	*lens = s->lens;
	return SF_OK;
}

/* The shards' summaries merged. */
static sf_status
merge(shards *s, sf_env *env, logreg_dist_totals *tot)
{
	sf_buf		b[MAX_SHARDS];
	const uint8_t *bufs[MAX_SHARDS];
	size_t		lens[MAX_SHARDS];
	sf_status	st;
	int			k;

	for (k = 0; k < s->ns; k++)
	{
		sf_buf_init(&b[k], env);
		logreg_dist_summary(&s->sh[k], &b[k]);
		bufs[k] = b[k].data;
		lens[k] = b[k].len;
	}
	st = logreg_dist_merge(env, bufs, lens, s->ns, tot);
	for (k = 0; k < s->ns; k++)
		sf_buf_free(&b[k]);
	return st;
}

SF_TEST(test_summary)
{
	shards		s;
	sf_env		env;
	logreg_dist_totals tot;
	size_t		pos = 0,
				i;
	int			j;

	sf_env_init_malloc(&env);
	deal(&s, 3);
	SF_OK(merge(&s, &env, &tot) == SF_OK && tot.d == D && tot.n == N, "three summaries merge: %llu rows",
		  (unsigned long long) tot.n);
	for (i = 0; i < N; i++)
		pos += Y[i] == 1.0;
	SF_OK(tot.pos == pos, "labels 1 add up (%llu)", (unsigned long long) tot.pos);
	for (j = 0; j < D; j++)
	{
		double		sum = 0;

		for (i = 0; i < N; i++)
			sum += X[i * D + j];
		SF_OK(fabs(tot.sum[j] - sum) <= 1e-12 * fmax(1.0, fabs(sum)),
			  "column %d's sum is the union's (%.17g vs %.17g)", j + 1, tot.sum[j], sum);
	}
	logreg_dist_totals_free(&env, &tot);
	undeal(&s);
}

/* One GRAD and one LOSS job: the shards' sums are the union's, to rounding. */
SF_TEST(test_step_sums)
{
	shards		s;
	gbt_dist_io io = {exchange, &s};
	const double theta[D + 1] = {0.5, -0.02, 0.3, 0.1, -0.2};
	const int	k = D + 1;
	double		g[D + 1] = {0},
				h[(D + 1) * (D + 1)] = {0},
				gs[D + 1] = {0},
				hs[(D + 1) * (D + 1)] = {0},
				rep[(D + 1) + (D + 1) * (D + 2) / 2],
				l = 0,
				worst = 0;
	sf_buf		job;
	const uint8_t *const *r;
	const size_t *len;
	int			n,
				a,
				b,
				t;

	deal(&s, 3);
	logreg_grad_hess(X, Y, N, D, k, 0.7, theta, g, h);
	sf_buf_init(&job, &s.env);
	sf_buf_put_u32(&job, 0x314A444Cu);
	sf_buf_put_u8(&job, LOGREG_DIST_GRAD);
	sf_buf_put_u32(&job, (uint32_t) k);
	sf_buf_put_f64(&job, 0.7);
	sf_buf_put_f64s(&job, theta, (size_t) k);
	SF_OK(io.exchange(io.ctx, job.data, job.len, &n, &r, &len) == SF_OK && n == 3, "a GRAD job: three replies");
	for (t = 0; t < n; t++)
	{
		const double *p = rep + k;

		SF_OK(logreg_dist_read_reply(&s.env, r[t], len[t], LOGREG_DIST_GRAD, (size_t) k + k * (k + 1) / 2,
									 rep) == SF_OK, "shard %d's GRAD reply reads", t + 1);
		for (a = 0; a < k; a++)
			gs[a] += rep[a];
		for (a = 0; a < k; a++)
			for (b = 0; b <= a; b++)
				hs[a * k + b] += *p++;
	}
	for (a = 0; a < k; a++)
	{
		worst = fmax(worst, fabs(gs[a] - g[a]) / fmax(1.0, fabs(g[a])));
		for (b = 0; b <= a; b++)
			worst = fmax(worst, fabs(hs[a * k + b] - h[a * k + b]) / fmax(1.0, fabs(h[a * k + b])));
	}
	SF_OK(worst <= 1e-12, "gradient and Hessian sums of the shards are the union's (worst %.3g relative)", worst);
	job.len = 0;
	sf_buf_put_u32(&job, 0x314A444Cu);
	sf_buf_put_u8(&job, LOGREG_DIST_LOSS);
	sf_buf_put_u32(&job, (uint32_t) k);
	sf_buf_put_f64(&job, 0.0);
	sf_buf_put_f64s(&job, theta, (size_t) k);
	SF_OK(io.exchange(io.ctx, job.data, job.len, &n, &r, &len) == SF_OK, "a LOSS job");
	for (t = 0; t < n; t++)
	{
		SF_OK(logreg_dist_read_reply(&s.env, r[t], len[t], LOGREG_DIST_LOSS, 1, rep) == SF_OK,
			  "shard %d's LOSS reply reads", t + 1);
		l += rep[0];
	}
	SF_REL(l, logreg_loss(X, Y, N, D, k, theta), 1e-12, "the shards' loss sums to the union's");
	SF_OK(logreg_dist_read_reply(&s.env, r[0], len[0], LOGREG_DIST_GRAD, 1, rep) == SF_ECORRUPT,
		  "a LOSS reply read as a GRAD reply: SF_ECORRUPT");
	SF_OK(logreg_dist_read_reply(&s.env, r[0], len[0] - 1, LOGREG_DIST_LOSS, 1, rep) == SF_ECORRUPT,
		  "a truncated reply: SF_ECORRUPT");
	sf_buf_free(&job);
	undeal(&s);
}

/* The whole fit against logreg_fit on the union. */
static void
check_fit(int ns, int fit_intercept, double C, double tol)
{
	shards		s;
	sf_env		env;
	gbt_dist_io io = {exchange, &s};
	logreg_params p;
	logreg_model one,
				many;
	logreg_dist_totals tot;
	double		rel = 0,
				scale = 0;
	int			j,
				k;

	sf_env_init_malloc(&env);
	sf_params_defaults(&logreg_params_table, &p);
	p.fit_intercept = fit_intercept;
	p.C = C;
	p.tol = tol;
	deal(&s, ns);
	SF_OK(logreg_fit(&env, &p, X, Y, N, D, &one) == SF_OK, "%d shards: logreg_fit on the union", ns);
	SF_OK(merge(&s, &env, &tot) == SF_OK && logreg_dist_fit(&env, &p, &tot, ns, &io, &many) == SF_OK,
		  "%d shards, intercept %d, C %g: logreg_dist_fit", ns, fit_intercept, C);
	for (j = 0; j < D; j++)
		scale = fmax(scale, fabs(one.coef[j]));
	for (j = 0; j < D; j++)
		rel = fmax(rel, fabs(one.coef[j] - many.coef[j]) / scale);
	rel = fmax(rel, fabs(one.intercept - many.intercept) / scale);
	SF_OK(rel <= 1e-8, "%d shards: coefficients within 1e-8 relative of logreg_fit's (%.3g)", ns, rel);
	SF_OK(one.iterations == many.iterations && one.converged && many.converged,
		  "%d shards: the same Newton iterations (%d vs %d), both converged", ns, one.iterations, many.iterations);
	SF_REL(many.objective, one.objective, 1e-12, "the same objective");
	/* a loss comes with the gradient at its theta: an accepted step costs no GRAD round */
	SF_OK(s.jobs < 2 * one.iterations + 2, "%d shards: %d round trips for %d iterations (fewer than 2 i + 2)",
		  ns, s.jobs, one.iterations);
	for (k = 0; k < ns; k++)
		SF_OK(s.sh[k].done, "shard %d got the END job", k + 1);
	logreg_free(&env, &one);
	logreg_free(&env, &many);
	logreg_dist_totals_free(&env, &tot);
	undeal(&s);
}

SF_TEST(test_fit)
{
	make_rows();
	check_fit(1, 1, 1.0, 1e-8);
	check_fit(3, 1, 1.0, 1e-8);
	check_fit(4, 0, 0.05, 1e-8);
}

/* Deal n rows of width d to ns shards in contiguous parts (a partition each). */
static void
deal_parts(shards *s, const double *x, const double *y, size_t n, int d, int ns)
{
	int			k;

	memset(s, 0, sizeof(*s));
	sf_env_init_malloc(&s->env);
	s->ns = ns;
	for (k = 0; k < ns; k++)
	{
		size_t		lo = n * (size_t) k / (size_t) ns;

		s->n[k] = n * (size_t) (k + 1) / (size_t) ns - lo;
		s->x[k] = malloc(sizeof(double) * s->n[k] * (size_t) d);
		s->y[k] = malloc(sizeof(double) * s->n[k]);
		memcpy(s->x[k], x + lo * (size_t) d, sizeof(double) * s->n[k] * (size_t) d);
		memcpy(s->y[k], y + lo, sizeof(double) * s->n[k]);
		sf_buf_init(&s->reply[k], &s->env);
		(void) logreg_dist_shard_init(&s->env, s->x[k], s->y[k], s->n[k], d, &s->sh[k]);
	}
}

/* logreg_fit's own sums, counting the passes over the rows that ask for the loss. */
typedef struct counted_rows
{
	const double *x,
			   *y;
	size_t		n;
	int			losses;
} counted_rows;

static sf_status
counted_loss(sf_env *env, void *ctx, const double *theta, int d, int k, double *l)
{
	counted_rows *r = ctx;

	r->losses++;
	*l = logreg_loss(r->x, r->y, r->n, d, k, theta);
	return SF_OK;
}

static sf_status
counted_grad_hess(sf_env *env, void *ctx, const double *theta, int d, int k, double C,
				  double *g, double *h)
{
	counted_rows *r = ctx;

	logreg_grad_hess(r->x, r->y, r->n, d, k, C, theta, g, h);
	return SF_OK;
}

/* The largest element of the objective's gradient at m, summed in long double. */
static double
exact_gmax(const double *x, const double *y, size_t n, int d, double C, const logreg_model *m)
{
	long double g[LOGREG_MAX_FEATURES + 1] = {0},
				worst = 0;
	size_t		i;
	int			j;

	for (i = 0; i < n; i++)
	{
		long double z = m->intercept,
					e;

		for (j = 0; j < d; j++)
			z += (long double) x[i * (size_t) d + j] * m->coef[j];
		e = C * (1.0L / (1.0L + expl(-z)) - y[i]);
		for (j = 0; j < d; j++)
			g[j] += e * x[i * (size_t) d + j];
		g[d] += e;
	}
	for (j = 0; j <= d; j++)
		worst = fmaxl(worst, fabsl(g[j] + (j < d ? m->coef[j] : 0.0L)));
	return (double) worst;
}

/*
 * Rows where the objective, a sum over 20,000 rows, can no longer tell the
 * last Newton step from none while the gradient is still above tol: the
 * line search then compared roundings, up to 100 iterations of ~30 passes
 * over the rows each (3,000 round trips to the shards at 300,000 rows).  Ten
 * features in [-1, 1], labels from a logistic model of x1 x2, x3 (the rows
 * of bench/sharded_train_bench.py), six draws.  Now both paths stop within
 * 2 i + 2 passes, at the optimum: the gradient summed in long double is
 * within tol * C n, and the two models agree to 1e-8.
 */
#define BIG_N	20000
#define BIG_D	10

/* Draw seed of the bench's rows: features in [-1, 1], labels from 3 x1 x2 + x3 - 0.5. */
static void
make_bench_rows(uint64_t seed, double *x, double *y)
{
	size_t		i;
	int			j;

	for (i = 0; i < BIG_N; i++)
	{
		double	   *r = x + i * BIG_D;

		for (j = 0; j < BIG_D; j++)
		{
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			r[j] = (double) (seed >> 11) / 9007199254740992.0 * 2.0 - 1.0;
		}
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		y[i] = (double) (seed >> 11) / 9007199254740992.0 < 1.0 / (1.0 + exp(-(3 * r[0] * r[1] + r[2] - 0.5)));
	}
}

static void
check_draw(int draw, const double *x, const double *y)
{
	static const logreg_sums counted = {counted_loss, counted_grad_hess};
	counted_rows cr = {x, y, BIG_N, 0};
	logreg_params p;
	double		bound,
				rel = 0;
	logreg_model one,
				many;
	shards		s;
	gbt_dist_io io = {exchange, &s};
	logreg_dist_totals tot;
	sf_env		env;
	int			j;

	sf_env_init_malloc(&env);
	sf_params_defaults(&logreg_params_table, &p);
	bound = p.tol * fmax(1.0, p.C * BIG_N);
	SF_OK(logreg_fit_sums(&env, &p, BIG_N, BIG_D, &counted, &cr, &one) == SF_OK && one.converged &&
		  cr.losses <= 2 * one.iterations + 2,
		  "draw %d, one server: converged (%d) in %d iterations, %d passes for the loss (at most 2 i + 2)",
		  draw, one.converged, one.iterations, cr.losses);
	deal_parts(&s, x, y, BIG_N, BIG_D, 3);
	SF_OK(merge(&s, &env, &tot) == SF_OK && logreg_dist_fit(&env, &p, &tot, 3, &io, &many) == SF_OK &&
		  many.converged && s.jobs < 2 * many.iterations + 2,
		  "draw %d, three shards: converged (%d) in %d iterations, %d round trips (fewer than 2 i + 2)",
		  draw, many.converged, many.iterations, s.jobs);
	SF_OK(exact_gmax(x, y, BIG_N, BIG_D, p.C, &one) <= bound &&
		  exact_gmax(x, y, BIG_N, BIG_D, p.C, &many) <= bound,
		  "draw %d: the gradient in long double is within tol * C n = %g at both (%.3g, %.3g)",
		  draw, bound, exact_gmax(x, y, BIG_N, BIG_D, p.C, &one), exact_gmax(x, y, BIG_N, BIG_D, p.C, &many));
	for (j = 0; j < BIG_D; j++)
		rel = fmax(rel, fabs(one.coef[j] - many.coef[j]) / fmax(fabs(one.coef[j]), 1e-3));
	SF_OK(rel <= 1e-8, "draw %d: the two models agree within 1e-8 relative (%.3g)", draw, rel);
	logreg_free(&env, &one);
	logreg_free(&env, &many);
	logreg_dist_totals_free(&env, &tot);
	undeal(&s);
}

SF_TEST(test_noise_stop)
{
	double	   *x = malloc(sizeof(double) * BIG_N * BIG_D),
			   *y = malloc(sizeof(double) * BIG_N);
	int			draw;

	for (draw = 1; draw <= 6; draw++)
	{
		make_bench_rows((uint64_t) draw, x, y);
		check_draw(draw, x, y);
	}
	free(x);
	free(y);
}

SF_TEST(test_refusals)
{
	shards		s;
	sf_env		env;
	gbt_dist_io io = {exchange, &s};
	logreg_params p;
	logreg_model m;
	logreg_dist_totals tot;
	logreg_dist_shard sh;
	sf_buf		b1,
				b2;
	const uint8_t *bufs[2];
	size_t		lens[2];
	double		y2[3] = {0, 2, 1},
				x2[6] = {1, 2, 3, 4, 5, 6};
	uint8_t		junk[5] = {0x4C, 0x44, 0x4A, 0x31, 9};

	sf_env_init_malloc(&env);
	sf_params_defaults(&logreg_params_table, &p);
	SF_OK(logreg_dist_shard_init(&env, x2, y2, 3, 2, &sh) == SF_EDATA && strstr(env.msg, "0 or 1"),
		  "a label 2 on a shard: SF_EDATA (%s)", env.msg);
	y2[1] = 1;
	SF_OK(logreg_dist_shard_init(&env, x2, y2, 3, 2, &sh) == SF_OK, "labels 0/1: the shard loads");
	SF_OK(logreg_dist_shard_step(&env, &sh, junk, sizeof(junk), NULL) == SF_ECORRUPT,
		  "an unknown job: SF_ECORRUPT (%s)", env.msg);
	/* summaries of widths 2 and 4 */
	sf_buf_init(&b1, &env);
	sf_buf_init(&b2, &env);
	logreg_dist_summary(&sh, &b1);
	deal(&s, 1);
	logreg_dist_summary(&s.sh[0], &b2);
	bufs[0] = b1.data;
	lens[0] = b1.len;
	bufs[1] = b2.data;
	lens[1] = b2.len;
	SF_OK(logreg_dist_merge(&env, bufs, lens, 2, &tot) == SF_EDATA, "widths that differ: SF_EDATA (%s)", env.msg);
	lens[1] = b2.len - 3;
	SF_OK(logreg_dist_merge(&env, bufs + 1, lens + 1, 1, &tot) == SF_ECORRUPT,
		  "a truncated summary: SF_ECORRUPT (%s)", env.msg);
	/* one class over all shards */
	y2[1] = 0;
	y2[2] = 0;
	(void) logreg_dist_shard_init(&env, x2, y2, 3, 2, &sh);
	b1.len = 0;
	logreg_dist_summary(&sh, &b1);
	bufs[0] = b1.data;
	lens[0] = b1.len;
	SF_OK(logreg_dist_merge(&env, bufs, lens, 1, &tot) == SF_OK, "a one-class summary merges");
	SF_OK(logreg_dist_fit(&env, &p, &tot, 1, &io, &m) == SF_EDATA && strstr(env.msg, "only one class"),
		  "one class over all shards: SF_EDATA (%s)", env.msg);
	logreg_dist_totals_free(&env, &tot);
	SF_OK(logreg_dist_merge(&env, NULL, NULL, 0, &tot) == SF_OK &&
		  logreg_dist_fit(&env, &p, &tot, 0, &io, &m) == SF_EDATA,
		  "no rows on any shard: SF_EDATA (%s)", env.msg);
	/* a shard that does not answer */
	undeal(&s);
	deal(&s, 3);
	SF_OK(merge(&s, &env, &tot) == SF_OK, "three shards merge");
	s.silent = 1;
	SF_OK(logreg_dist_fit(&env, &p, &tot, 3, &io, &m) == SF_ECORRUPT && strstr(env.msg, "2 of 3"),
		  "a shard that does not answer: SF_ECORRUPT (%s)", env.msg);
	logreg_dist_totals_free(&env, &tot);
	sf_buf_free(&b1);
	sf_buf_free(&b2);
	undeal(&s);
}

int
main(void)
{
	make_rows();
	SF_RUN(test_summary);
	SF_RUN(test_step_sums);
	SF_RUN(test_fit);
	SF_RUN(test_noise_stop);
	SF_RUN(test_refusals);
	return sf_test_done();
}
