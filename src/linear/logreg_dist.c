/*
 * logreg_dist.c
 *	  Sharded logistic regression (logreg_dist.h): each shard answers with
 *	  the sums of its own rows (logreg_loss, logreg_grad_hess: logreg.c's
 *	  loops), the coordinator adds them shard by shard in a fixed order and
 *	  runs logreg_fit's Newton iterations on them (logreg_fit_sums).  The
 *	  model is logreg_fit's on the union of the rows up to the order of the
 *	  sums: a shard's rows are summed in its canonical order, then the shards'
 *	  sums in partition order, where one server sums all rows in one order.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/logreg_dist.h"

#define SUMMARY_MAGIC	0x3153444Cu	/* "LDS1" */
#define JOB_MAGIC		0x314A444Cu	/* "LDJ1" */
#define REPLY_MAGIC		0x3152444Cu	/* "LDR1" */

/* doubles of a GRAD reply: the gradient and the Hessian's lower triangle */
static size_t
grad_count(int k)
{
	return (size_t) k + (size_t) k * (size_t) (k + 1) / 2;
}

/* ---------------------------------------------------------------- shard */

sf_status
logreg_dist_shard_init(sf_env *env, const double *x, const double *y, size_t n, int d,
					   logreg_dist_shard *sh)
{
	memset(sh, 0, sizeof(*sh));
	if (d < 1 || d > LOGREG_MAX_FEATURES)
		return logreg_check_shape(env, 2, d);
	sh->x = x;
	sh->y = y;
	sh->n = n;
	sh->d = d;
	return logreg_check_labels(env, x, y, n, d, &sh->pos);
}

void
logreg_dist_summary(const logreg_dist_shard *sh, sf_buf *b)
{
	int			j;

	sf_buf_put_u32(b, SUMMARY_MAGIC);
	sf_buf_put_u32(b, (uint32_t) sh->d);
	sf_buf_put_u64(b, (uint64_t) sh->n);
	sf_buf_put_u64(b, (uint64_t) sh->pos);
	/* column by column in row order, as sf_background_mean sums them */
	for (j = 0; j < sh->d; j++)
	{
		double		s = 0;
		size_t		i;

		for (i = 0; i < sh->n; i++)
			s += sh->x[i * (size_t) sh->d + j];
		sf_buf_put_f64(b, s);
	}
}

sf_status
logreg_dist_shard_step(sf_env *env, logreg_dist_shard *sh, const uint8_t *job, size_t len,
					   sf_buf *b)
{
	sf_reader	r;
	uint32_t	magic;
	int			op,
				k;
	double		C,
			   *theta = NULL,
			   *out = NULL;
	sf_status	st = SF_OK;

	sf_reader_init(&r, job, len);
	magic = sf_read_u32(&r);
	op = sf_read_u8(&r);
	if (magic != JOB_MAGIC || op < LOGREG_DIST_LOSS || op > LOGREG_DIST_LOSS_GRAD)
		return sf_fail(env, SF_ECORRUPT, "logreg shard: not a job of logreg_train_sharded");
	sf_buf_put_u32(b, REPLY_MAGIC);
	sf_buf_put_u8(b, (uint8_t) op);
	if (op == LOGREG_DIST_END)
	{
		sh->done = 1;
		return sf_reader_ok(&r) && r.p == r.end ? sf_buf_status(b)
			: sf_fail(env, SF_ECORRUPT, "logreg shard: malformed end job");
	}
	k = (int) sf_read_u32(&r);
	C = sf_read_f64(&r);
	if (!sf_reader_ok(&r) || (k != sh->d && k != sh->d + 1) || !isfinite(C) ||
		(size_t) (r.end - r.p) != 8 * (size_t) k)
		return sf_fail(env, SF_ECORRUPT, "logreg shard: a job of %d coefficients for rows of width %d",
					   k, sh->d);
	theta = sf_calloc(env, (size_t) k, sizeof(double));
	out = sf_calloc(env, (size_t) k * k + k, sizeof(double));
	if (theta == NULL || out == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for a logreg shard step");
		goto done;
	}
	sf_read_f64s(&r, theta, (size_t) k);
	if (op != LOGREG_DIST_GRAD)
		sf_buf_put_f64(b, logreg_loss(sh->x, sh->y, sh->n, sh->d, k, theta));
	if (op != LOGREG_DIST_LOSS)
	{
		double	   *g = out,
				   *h = out + k;
		int			a;

		logreg_grad_hess(sh->x, sh->y, sh->n, sh->d, k, C, theta, g, h);
		sf_buf_put_f64s(b, g, (size_t) k);
		for (a = 0; a < k; a++)
			sf_buf_put_f64s(b, h + (size_t) a * k, (size_t) a + 1);
	}
	st = sf_buf_status(b);
done:
	sf_free(env, theta);
	sf_free(env, out);
	return st;
}

/* ---------------------------------------------------------- coordinator */

sf_status
logreg_dist_merge(sf_env *env, const uint8_t *const *sum, const size_t *len, int ns,
				  logreg_dist_totals *tot)
{
	int			s,
				j;

	memset(tot, 0, sizeof(*tot));
	for (s = 0; s < ns; s++)
	{
		sf_reader	r;
		uint32_t	magic,
					d;
		uint64_t	n,
					pos;

		sf_reader_init(&r, sum[s], len[s]);
		magic = sf_read_u32(&r);
		d = sf_read_u32(&r);
		n = sf_read_u64(&r);
		pos = sf_read_u64(&r);
		if (!sf_reader_ok(&r) || magic != SUMMARY_MAGIC || d < 1 || d > LOGREG_MAX_FEATURES ||
			pos > n || n > UINT64_MAX - tot->n || (size_t) (r.end - r.p) != 8 * (size_t) d)
		{
			logreg_dist_totals_free(env, tot);
			return sf_fail(env, SF_ECORRUPT, "logreg_train_sharded: malformed summary from shard %d", s + 1);
		}
		if (tot->sum == NULL)
		{
			tot->d = (int) d;
			if ((tot->sum = sf_calloc(env, d, sizeof(double))) == NULL)
				return sf_fail(env, SF_ENOMEM, "out of memory for the shards' summaries");
		}
		else if ((int) d != tot->d)
		{
			logreg_dist_totals_free(env, tot);
			return sf_fail(env, SF_EDATA, "logreg_train_sharded: features have %u elements on one shard, %d on another",
						   d, tot->d);
		}
		tot->n += n;
		tot->pos += pos;
		for (j = 0; j < (int) d; j++)
			tot->sum[j] += sf_read_f64(&r);
	}
	return SF_OK;
}

void
logreg_dist_totals_free(sf_env *env, logreg_dist_totals *tot)
{
	sf_free(env, tot->sum);
	tot->sum = NULL;
}

sf_status
logreg_dist_read_reply(sf_env *env, const uint8_t *buf, size_t len, int op, size_t count, double *out)
{
	sf_reader	r;
	uint32_t	magic;
	int			got;
	size_t		i;

	sf_reader_init(&r, buf, len);
	magic = sf_read_u32(&r);
	got = sf_read_u8(&r);
	if (!sf_reader_ok(&r) || magic != REPLY_MAGIC || got != op || (size_t) (r.end - r.p) != 8 * count)
		return sf_fail(env, SF_ECORRUPT, "logreg_train_sharded: malformed reply from a shard");
	if (count > 0)
		sf_read_f64s(&r, out, count);
	for (i = 0; i < count; i++)
		if (!isfinite(out[i]))
			return sf_fail(env, SF_ENUMERIC, "logreg_train_sharded: a shard's sums are not finite");
	return SF_OK;
}

/*
 * The coordinator's logreg_sums: every job to every shard, their sums added
 * in shard order.  A loss is asked for with the gradient and Hessian at the
 * same theta (LOSS_GRAD), kept per shard: when the line search takes that
 * step (a Newton step of 1 almost always is), the next iteration's
 * gradient and Hessian need no round trip; the shards' extra work is
 * wasted only on the steps the line search rejects.
 */
typedef struct dist_rows
{
	const gbt_dist_io *io;
	int			n_shards;
	double		C;
	sf_buf		job;
	double	   *reply;			/* 1 + grad_count(k) doubles */
	double	   *kept;			/* n_shards x grad_count(k): the sums of the last LOSS_GRAD */
	double	   *kept_theta;		/* (k) its theta */
	int			has_kept;
} dist_rows;

/* Send op (theta of k) to every shard; the replies in *replies. */
static sf_status
exchange(sf_env *env, dist_rows *dr, int op, int k, double C, const double *theta,
		 const uint8_t *const **replies, const size_t **lens)
{
	int			n;
	sf_status	st;

	dr->job.len = 0;
	sf_buf_put_u32(&dr->job, JOB_MAGIC);
	sf_buf_put_u8(&dr->job, (uint8_t) op);
	if (op != LOGREG_DIST_END)
	{
		sf_buf_put_u32(&dr->job, (uint32_t) k);
		sf_buf_put_f64(&dr->job, C);
		sf_buf_put_f64s(&dr->job, theta, (size_t) k);
	}
	if ((st = sf_buf_status(&dr->job)) != SF_OK)
		return st;
	if ((st = dr->io->exchange(dr->io->ctx, dr->job.data, dr->job.len, &n, replies, lens)) != SF_OK)
		return st;
	if (n != dr->n_shards)
		return sf_fail(env, SF_ECORRUPT, "logreg_train_sharded: %d of %d shards answered", n, dr->n_shards);
	return SF_OK;
}

static sf_status
dist_loss(sf_env *env, void *ctx, const double *theta, int d, int k, double *l)
{
	dist_rows  *dr = ctx;
	const uint8_t *const *rep;
	const size_t *len;
	size_t		gc = grad_count(k);
	sf_status	st;
	int			s;

	dr->has_kept = 0;
	if ((st = exchange(env, dr, LOGREG_DIST_LOSS_GRAD, k, dr->C, theta, &rep, &len)) != SF_OK)
		return st;
	*l = 0.0;
	for (s = 0; s < dr->n_shards; s++)
	{
		if ((st = logreg_dist_read_reply(env, rep[s], len[s], LOGREG_DIST_LOSS_GRAD, 1 + gc,
										 dr->reply)) != SF_OK)
			return st;
		*l += dr->reply[0];
		memcpy(dr->kept + (size_t) s * gc, dr->reply + 1, sizeof(double) * gc);
	}
	memcpy(dr->kept_theta, theta, sizeof(double) * k);
	dr->has_kept = 1;
	return SF_OK;
}

static sf_status
dist_grad_hess(sf_env *env, void *ctx, const double *theta, int d, int k, double C,
			   double *g, double *h)
{
	dist_rows  *dr = ctx;
	const uint8_t *const *rep;
	const size_t *len;
	sf_status	st;
	int			s,
				a,
				b;

	size_t		gc = grad_count(k);
	int			kept = dr->has_kept && memcmp(theta, dr->kept_theta, sizeof(double) * k) == 0;

	if (!kept && (st = exchange(env, dr, LOGREG_DIST_GRAD, k, C, theta, &rep, &len)) != SF_OK)
		return st;
	for (s = 0; s < dr->n_shards; s++)
	{
		const double *r = kept ? dr->kept + (size_t) s * gc : dr->reply;
		const double *t = r + k;

		if (!kept && (st = logreg_dist_read_reply(env, rep[s], len[s], LOGREG_DIST_GRAD, gc,
												  dr->reply)) != SF_OK)
			return st;
		for (a = 0; a < k; a++)
			g[a] += r[a];
		for (a = 0; a < k; a++)
			for (b = 0; b <= a; b++)
				h[a * k + b] += *t++;
	}
	return SF_OK;
}

sf_status
logreg_dist_fit(sf_env *env, const logreg_params *p, const logreg_dist_totals *tot, int n_shards,
				const gbt_dist_io *io, logreg_model *out)
{
	static const logreg_sums sharded = {dist_loss, dist_grad_hess};
	dist_rows	dr = {io, n_shards, p->C};
	int			k = tot->d + (p->fit_intercept ? 1 : 0);
	sf_status	st;

	memset(out, 0, sizeof(*out));
	if ((st = logreg_check_shape(env, (size_t) tot->n, tot->d)) != SF_OK ||
		(st = logreg_check_classes(env, (size_t) tot->pos, (size_t) tot->n)) != SF_OK)
		return st;
	sf_buf_init(&dr.job, env);
	dr.reply = sf_calloc(env, 1 + grad_count(k), sizeof(double));
	dr.kept = sf_calloc(env, (size_t) (n_shards > 0 ? n_shards : 1) * grad_count(k), sizeof(double));
	dr.kept_theta = sf_calloc(env, (size_t) k, sizeof(double));
	if (dr.reply == NULL || dr.kept == NULL || dr.kept_theta == NULL)
		st = sf_fail(env, SF_ENOMEM, "out of memory for the shards' sums");
	else
		st = logreg_fit_sums(env, p, (size_t) tot->n, tot->d, &sharded, &dr, out);
	if (st == SF_OK)
	{
		const uint8_t *const *rep;
		const size_t *len;
		int			s;

		/* the shards may drop the rows now, before their transaction ends */
		st = exchange(env, &dr, LOGREG_DIST_END, 0, 0.0, NULL, &rep, &len);
		for (s = 0; st == SF_OK && s < n_shards; s++)
			st = logreg_dist_read_reply(env, rep[s], len[s], LOGREG_DIST_END, 0, NULL);
		if (st != SF_OK)
			logreg_free(env, out);
	}
	sf_free(env, dr.reply);
	sf_free(env, dr.kept);
	sf_free(env, dr.kept_theta);
	sf_buf_free(&dr.job);
	return st;
}
