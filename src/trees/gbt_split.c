/*
 * gbt_split.c
 *	  Gradient histograms of tree nodes and the search for the best split of
 *	  each node, with XGBoost 1.7's gain and weight formulas.
 *
 * A histogram holds, for every (feature, bin) slot and every feature's
 * missing slot, the sums of the gradients and hessians of the node's rows.
 * The boosting loop builds the histogram of the smaller child only and
 * derives the larger one by subtracting it from the parent's.  Work is split
 * by nodes and blocks of features so each slot is summed in row order by one
 * thread: the result is the same for any thread count.
 *
 * Split enumeration per feature (XGBoost's hist evaluator): left to right
 * with missing rows going right, then, when the node has missing values for
 * the feature, right to left with missing rows going left, the last step of
 * which sends every present value right (condition: the feature's minimum
 * bound).  A candidate needs both children's hessian sums at least
 * min_child_weight and positive.  Gain = gain(left) + gain(right) -
 * gain(parent), with XGBoost's L1 thresholding and max_delta_step
 * clipping; ties keep the earlier candidate and the smaller feature.  With
 * monotone constraints the gains come from XGBoost's constrained evaluator
 * (consider_mono).
 */
#include <math.h>
#include <string.h>

#include "gbt_int.h"

/* ------------------------------------------------------------ formulas */

static double
threshold_l1(double w, double alpha)
{
	if (w > alpha)
		return w - alpha;
	if (w < -alpha)
		return w + alpha;
	return 0.0;
}

double
gbt_calc_weight(const gbt_params *p, double g, double h)
{
	double		dw;

	if (h < p->min_child_weight || h <= 0.0)
		return 0.0;
	dw = -threshold_l1(g, p->alpha) / (h + p->lambda);
	if (p->max_delta_step != 0.0 && fabs(dw) > p->max_delta_step)
		dw = copysign(p->max_delta_step, dw);
	return dw;
}

/*
 * Gain term of a (G, H) pair as XGBoost 1.7's hist evaluator computes it
 * (TreeEvaluator::CalcGainGivenWeight): T(G)^2 / (H + lambda) without
 * max_delta_step, else -(2 G w + (H + lambda) w^2) at the clipped weight w
 * (the alpha |w| term of param.h's CalcGain is not part of it there).
 */
static inline double
calc_gain(const gbt_params *p, double g, double h)
{
	if (h <= 0.0)
		return 0.0;
	if (p->max_delta_step == 0.0)
	{
		double		t = threshold_l1(g, p->alpha);

		return t * t / (h + p->lambda);
	}
	else
	{
		double		w = gbt_calc_weight(p, g, h);

		return -(2.0 * g * w + (h + p->lambda) * w * w);
	}
}

double
gbt_calc_gain(const gbt_params *p, double g, double h)
{
	return calc_gain(p, g, h);
}

/*
 * The constrained evaluator of XGBoost 1.7 (src/tree/split_evaluator.h),
 * used for every split once monotone_constraints is non-empty: the weight
 * is the float of CalcWeight clipped to the node's bounds, and the gain is
 * CalcGainGivenWeight evaluated in float at that weight.
 */
float
gbt_mono_weight(const gbt_params *p, double g, double h, float lower, float upper)
{
	float		w = (float) gbt_calc_weight(p, g, h);

	if (w < lower)
		return lower;
	if (w > upper)
		return upper;
	return w;
}

float
gbt_mono_gain(const gbt_params *p, double g, double h, float w)
{
	float		gf = (float) g,
				hf = (float) h,
				lam = (float) p->lambda;

	if (h <= 0.0)
		return 0.0f;
	return -(2.0f * gf * w + (hf + lam) * (w * w));
}

/* ------------------------------------------------------------ histograms */

typedef struct hist_ctx
{
	const gbt_bins *b;
	const float *gh;
	const uint32_t *rows;
	int			n_nodes;
	const size_t *begin;
	const size_t *end;
	double	  **hist;
	int			n_blocks;
} hist_ctx;

/*
 * A (gradient, hessian) pair of double sums, added as one 16-byte vector:
 * the same two IEEE additions as two scalar ones (so the same bytes), in one
 * load, add and store per slot.  Unaligned loads (memcpy): histograms come
 * from an allocator that may align to 8 bytes only.
 */
typedef double gh_pair __attribute__((vector_size(16)));

#define HIST_PREFETCH 16		/* rows ahead whose codes and gradients are fetched */

/*
 * The kernel of one node and one block of features [j0, j1): every row of
 * rows[i0, i1) adds its (g, h) to the slot of its bin of each feature.
 * Rows are summed in the order given, so each slot's sum is the same for
 * any thread count.  The pointers are restrict so the compiler keeps them
 * and off[] out of the reloads its -fno-strict-aliasing would force after
 * every store to the histogram.  CODE is the code type (uint8_t, uint16_t).
 */
#define HIST_ROWS_BODY(CODE) \
	do { \
		size_t		i; \
		uint32_t	j; \
		for (i = i0; i < i1; i++) \
		{ \
			uint32_t	r = rows[i]; \
			const CODE *cr = codes + (size_t) r * p; \
			gh_pair		v = {gh[2 * (size_t) r], gh[2 * (size_t) r + 1]}; \
			if (i + HIST_PREFETCH < i1) \
			{ \
				uint32_t	ra = rows[i + HIST_PREFETCH]; \
				__builtin_prefetch(codes + (size_t) ra * p + j0); \
				__builtin_prefetch(gh + 2 * (size_t) ra); \
			} \
			for (j = j0; j < j1; j++) \
			{ \
				double	   *s = h + 2 * (size_t) (off[j] + cr[j]); \
				gh_pair		a; \
				memcpy(&a, s, sizeof(a)); \
				a += v; \
				memcpy(s, &a, sizeof(a)); \
			} \
		} \
	} while (0)

static void
hist_rows_u8(const uint8_t *restrict codes, uint32_t p, const float *restrict gh,
			 const uint32_t *restrict rows, size_t i0, size_t i1,
			 const uint32_t *restrict off, uint32_t j0, uint32_t j1, double *restrict h)
{
	HIST_ROWS_BODY(uint8_t);
}

static void
hist_rows_u16(const uint16_t *restrict codes, uint32_t p, const float *restrict gh,
			  const uint32_t *restrict rows, size_t i0, size_t i1,
			  const uint32_t *restrict off, uint32_t j0, uint32_t j1, double *restrict h)
{
	HIST_ROWS_BODY(uint16_t);
}

/*
 * The kernel on slot codes (gbt_int.h: each code is the index of its slot's
 * gradient sum in the histogram): per value a load, the vector add and a
 * store, four features a step.  The features of a row have distinct slots,
 * so the four adds of a step are independent and each slot still sums the
 * rows in the order given.
 */
static void
hist_rows_slots(const uint16_t *restrict codes, uint32_t p, const float *restrict gh,
				const uint32_t *restrict rows, size_t i0, size_t i1,
				uint32_t j0, uint32_t j1, double *restrict h)
{
	size_t		i;

	for (i = i0; i < i1; i++)
	{
		uint32_t	r = rows[i];
		const uint16_t *c = codes + (size_t) r * p + j0,
				   *ce = codes + (size_t) r * p + j1;
		gh_pair		v = {gh[2 * (size_t) r], gh[2 * (size_t) r + 1]};

		if (i + HIST_PREFETCH < i1)
		{
			uint32_t	ra = rows[i + HIST_PREFETCH];

			/* both ends: a row's codes straddle two cache lines more often than not */
			__builtin_prefetch(codes + (size_t) ra * p + j0);
			__builtin_prefetch(codes + (size_t) ra * p + j1 - 1);
			__builtin_prefetch(gh + 2 * (size_t) ra);
		}
#define HIST_ADD(idx) \
		do { \
			double	   *s = h + (idx); \
			gh_pair		a; \
			memcpy(&a, s, sizeof(a)); \
			a += v; \
			memcpy(s, &a, sizeof(a)); \
		} while (0)
		for (; ce - c >= 4; c += 4)
		{
			HIST_ADD(c[0]);
			HIST_ADD(c[1]);
			HIST_ADD(c[2]);
			HIST_ADD(c[3]);
		}
		for (; c < ce; c++)
			HIST_ADD(c[0]);
#undef HIST_ADD
	}
}

/* Task t: node t / n_blocks, its block of features t % n_blocks. */
static void
hist_task(void *arg, int t, int worker)
{
	hist_ctx   *c = arg;
	const gbt_bins *b = c->b;
	uint32_t	p = b->p;
	int			k = t / c->n_blocks,
				blk = t % c->n_blocks;
	uint32_t	j0 = (uint32_t) ((uint64_t) p * blk / c->n_blocks);
	uint32_t	j1 = (uint32_t) ((uint64_t) p * (blk + 1) / c->n_blocks);
	double	   *h = c->hist[k];

	memset(h + 2 * (size_t) b->off[j0], 0, sizeof(double) * 2 * (b->off[j1] - b->off[j0]));
	if (b->slots)
		hist_rows_slots(b->codes, p, c->gh, c->rows, c->begin[k], c->end[k], j0, j1, h);
	else if (b->wide)
		hist_rows_u16(b->codes, p, c->gh, c->rows, c->begin[k], c->end[k], b->off, j0, j1, h);
	else
		hist_rows_u8(b->codes, p, c->gh, c->rows, c->begin[k], c->end[k], b->off, j0, j1, h);
}

/*
 * The tasks are (node, block of features) pairs, handed out in turn to the
 * workers: a lone node is split into one block per worker, a level of many
 * nodes gives each node whole (a row's codes and gradients are then fetched
 * by one thread, not by every one), and in between each node is split so
 * there are at least two tasks per worker to even out the nodes' sizes.  Each slot is
 * summed over the node's rows in order by one task, so the histograms are
 * the same for any thread count and any split.
 */
void
gbt_hist_build(sf_env *env, const gbt_bins *b, const float *gh, const uint32_t *rows,
			   int n_nodes, const size_t *begin, const size_t *end, double **hist)
{
	hist_ctx	c;
	int			nw = gbt_workers(env, (int) (b->p > 4096 ? 4096 : b->p));
	int			n_blocks;

	if (n_nodes <= 0)
		return;
	n_blocks = n_nodes == 1 ? nw : (2 * nw + n_nodes - 1) / n_nodes;
	if (n_blocks > (int) b->p)
		n_blocks = (int) b->p;
	if (n_blocks < 1)
		n_blocks = 1;
	c.b = b;
	c.gh = gh;
	c.rows = rows;
	c.n_nodes = n_nodes;
	c.begin = begin;
	c.end = end;
	c.hist = hist;
	c.n_blocks = n_blocks;
	gbt_parallel(env, n_nodes * n_blocks, hist_task, &c);
}

/* ------------------------------------------------------------ split search */

typedef struct split_ctx
{
	const gbt_bins *b;
	const gbt_params *prm;
	int			n_nodes;
	double *const *hist;
	const double *g;
	const double *h;
	const uint8_t *allowed;
	const gbt_mono *mono;		/* NULL without monotone constraints */
	gbt_split  *best;			/* (n_nodes, p) best per node and feature */
} split_ctx;

/* Record a candidate in *best (its gain is strictly larger). */
static inline void
take(gbt_split *best, double chg, uint32_t j, uint32_t bin, int all_right, int default_left,
	 float cond, double gl, double hl, double gr, double hr)
{
	best->loss_chg = chg;
	best->feature = j;
	best->bin = bin;
	best->all_right = all_right;
	best->default_left = default_left;
	best->cond = cond;
	best->gl = gl;
	best->hl = hl;
	best->gr = gr;
	best->hr = hr;
}

/* Replace *best by the candidate when its gain is strictly larger. */
static inline void
consider(gbt_split *best, const gbt_params *prm, double parent_gain, uint32_t j,
		 uint32_t bin, int all_right, int default_left, float cond,
		 double gl, double hl, double gr, double hr)
{
	double		chg;

	if (hl < prm->min_child_weight || hr < prm->min_child_weight || hl <= 0.0 || hr <= 0.0)
		return;
	/* inlined: the split search calls it twice per candidate */
	chg = calc_gain(prm, gl, hl) + calc_gain(prm, gr, hr) - parent_gain;
	if (chg > best->loss_chg)
		take(best, chg, j, bin, all_right, default_left, cond, gl, hl, gr, hr);
}

/*
 * consider() under monotone constraints: XGBoost's CalcSplitGain with the
 * node's bounds, which rejects a split on a constrained feature whose child
 * weights are out of order (gain -inf there), and takes the gain in float.
 */
static inline void
consider_mono(gbt_split *best, const gbt_params *prm, const gbt_mono *mono, int k,
			  float parent_gain, uint32_t j, uint32_t bin, int all_right, int default_left,
			  float cond, double gl, double hl, double gr, double hr)
{
	float		wl,
				wr,
				chg;
	int			c = mono->c[j];

	if (hl < prm->min_child_weight || hr < prm->min_child_weight || hl <= 0.0 || hr <= 0.0)
		return;
	wl = gbt_mono_weight(prm, gl, hl, mono->lower[k], mono->upper[k]);
	wr = gbt_mono_weight(prm, gr, hr, mono->lower[k], mono->upper[k]);
	if ((c > 0 && !(wl <= wr)) || (c < 0 && !(wl >= wr)))
		return;
	chg = (gbt_mono_gain(prm, gl, hl, wl) + gbt_mono_gain(prm, gr, hr, wr)) - parent_gain;
	if (chg > best->loss_chg)
	{
		take(best, chg, j, bin, all_right, default_left, cond, gl, hl, gr, hr);
		best->wl = wl;
		best->wr = wr;
	}
}

/* One candidate, through the evaluator in force. */
#define CONSIDER(bin_, all_right_, dl_, cond_, gl_, hl_, gr_, hr_) \
	do { \
		if (c->mono) \
			consider_mono(best, c->prm, c->mono, k, mono_parent, j, bin_, all_right_, dl_, \
						  cond_, gl_, hl_, gr_, hr_); \
		else \
			consider(best, c->prm, parent_gain, j, bin_, all_right_, dl_, cond_, \
					 gl_, hl_, gr_, hr_); \
	} while (0)

static void
split_task(void *arg, int t, int worker)
{
	split_ctx  *c = arg;
	const gbt_bins *b = c->b;
	uint32_t	j = (uint32_t) t;
	uint32_t	nb = b->n_bins[j];
	const float *cut = b->cuts + b->off[j];
	int			k;

	for (k = 0; k < c->n_nodes; k++)
	{
		gbt_split  *best = &c->best[(size_t) k * b->p + j];
		const double *hs = c->hist[k] + 2 * (size_t) b->off[j];
		double		G = c->g[k],
					H = c->h[k];
		double		parent_gain = gbt_calc_gain(c->prm, G, H);
		float		mono_parent = 0.0f;
		double		gm = hs[2 * nb],
					hm = hs[2 * nb + 1];
		double		gl = 0.0,
					hl = 0.0;
		uint32_t	i;

		memset(best, 0, sizeof(*best));
		best->loss_chg = 0.0;
		if (c->allowed && !c->allowed[j])
			continue;
		if (c->mono)
			mono_parent = gbt_mono_gain(c->prm, G, H,
										gbt_mono_weight(c->prm, G, H, c->mono->lower[k],
														c->mono->upper[k]));
		/* forward: bins 0..i left, missing right */
		for (i = 0; i < nb; i++)
		{
			gl += hs[2 * i];
			hl += hs[2 * i + 1];
			if (hs[2 * i + 1] == 0.0 && hs[2 * i] == 0.0 && i + 1 < nb)
				continue;		/* an empty bin gives the same partition as the previous one */
			CONSIDER(i, 0, 0, cut[i], gl, hl, G - gl, H - hl);
		}
		/* backward, only when the node has missing values here */
		if (hm > 0.0)
		{
			double		gr = 0.0,
						hr = 0.0;

			for (i = nb; i-- > 0;)
			{
				gr += hs[2 * i];
				hr += hs[2 * i + 1];
				if (hs[2 * i + 1] == 0.0 && hs[2 * i] == 0.0 && i > 0)
					continue;
				if (i > 0)
					CONSIDER(i - 1, 0, 1, cut[i - 1], G - gr, H - hr, gr, hr);
				else
					CONSIDER(0, 1, 1, b->min_val[j], G - gr, H - hr, gr, hr);
			}
		}
		(void) gm;
	}
}

void
gbt_split_find(sf_env *env, const gbt_bins *b, const gbt_params *prm, int n_nodes,
			   double *const *hist, const double *g, const double *h,
			   const uint8_t *allowed, const gbt_mono *mono, gbt_split *out,
			   gbt_split *scratch)
{
	split_ctx	c;
	int			k;
	uint32_t	j;

	c.b = b;
	c.prm = prm;
	c.n_nodes = n_nodes;
	c.hist = hist;
	c.g = g;
	c.h = h;
	c.allowed = allowed;
	c.mono = mono;
	c.best = scratch;
	gbt_parallel(env, (int) b->p, split_task, &c);
	/* reduce in feature order: strictly larger wins, so ties keep the smaller feature */
	for (k = 0; k < n_nodes; k++)
	{
		gbt_split  *o = &out[k];

		memset(o, 0, sizeof(*o));
		o->loss_chg = 0.0;
		for (j = 0; j < b->p; j++)
		{
			const gbt_split *s = &scratch[(size_t) k * b->p + j];

			if (s->loss_chg > o->loss_chg)
				*o = *s;
		}
	}
}
