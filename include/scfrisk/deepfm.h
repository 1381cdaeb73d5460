/*
 * deepfm.h
 *	  QRGMM with a quantile DeepFM network (kind qrgmm_deepfm): the model,
 *	  its parameters, training, scoring into the conditional quantile curve,
 *	  and its bytes (methods/qrgmm_scf.md section 4.2).
 *
 * Input layout.  A row has n_numeric numeric fields followed by
 * n_categorical categorical fields; both arrive as doubles (the ids as
 * integral values >= 0), which is also the covariate layout of every
 * generation function (n_features = n_numeric + n_categorical).
 *
 * The network.  F = n_numeric + n_categorical fields share one embedding
 * size k.  A numeric field f has one vector v_f and one first-order weight
 * w_f, used as z_f * v_f and z_f * w_f with z_f the training z-score.  A
 * categorical field has a vocabulary learned from the training rows (the
 * ids seen at least min_count times, sorted) and one vector and weight per
 * known id plus an unknown bucket (index 0) that ids seen fewer times in
 * training and ids never seen share.  From the embeddings e_f:
 *	  y1 = (first-order terms)                          (F)
 *	  y2_d = 0.5 ((sum_f e_fd)^2 - sum_f e_fd^2)        (k)  O(F k)
 *	  h = ReLU MLP over concat(e_1..e_F)                (H, the last layer)
 *	  q_j = c_j + u_j' [y1, y2, h]   j = 1..m-1         the multi-output head
 * q_j is the standardised y = T(S) quantile at tau_j = j/m; the pinball
 * loss is averaged over rows and levels.  sf_qcurve_build_tail rearranges
 * and sets the outer knots by the model's tail rule.
 */
#ifndef SCFRISK_DEEPFM_H
#define SCFRISK_DEEPFM_H

#include "scfrisk/nn.h"
#include "scfrisk/sf_container.h"
#include "scfrisk/sf_core.h"
#include "scfrisk/sf_params.h"
#include "scfrisk/sf_qcurve.h"

#define DEEPFM_FORMAT_VERSION	1
#define DEEPFM_MIN_K			1
#define DEEPFM_MAX_K			256
#define DEEPFM_DEFAULT_K		8
#define DEEPFM_MIN_M			2
#define DEEPFM_MAX_M			1000
#define DEEPFM_DEFAULT_M		100
#define DEEPFM_MAX_FIELDS		1024	/* numeric + categorical fields */
#define DEEPFM_MAX_VOCAB		(1u << 20)	/* known ids of one categorical field */
#define DEEPFM_MAX_EMBED		(8u * 1024u * 1024u)	/* embedding floats (32 MB) */
#define DEEPFM_MAX_EPOCHS		100000
#define DEEPFM_LOG_INFO_MAX		200	/* epochs listed in the info JSON */

/* Body section tags (>= SF_TAG_BODY).  Stored on disk: never renumber. */
#define DEEPFM_TAG_SHAPE		16	/* fields, k, m, transform, y scaling */
#define DEEPFM_TAG_NUMERIC		17	/* n_numeric x {f64 mean, f64 scale} */
#define DEEPFM_TAG_VOCAB		18	/* per categorical field: u32 len, len x i32 ids */
#define DEEPFM_TAG_EMBED		19	/* rows x k f32 vectors, rows f32 first-order weights */
#define DEEPFM_TAG_TOWER		20	/* the ReLU MLP (nn_net_encode) */
#define DEEPFM_TAG_HEAD			21	/* (P, m-1) f32 weights, (m-1) f32 biases */
#define DEEPFM_TAG_LOG			22	/* u32 epochs, u32 best, epochs x {f32 train, f32 val} */
#define DEEPFM_TAG_REFIT		23	/* optional: u32 m, u32 p, (p-1) u32 columns, (m-1, p) f64 */
#define DEEPFM_TAG_TAIL			24	/* optional: u8 tail rule, absent = SF_TAIL_FLAT */

/* User hyperparameters of qrgmm_deepfm_train (table deepfm_params_table). */
typedef struct deepfm_params
{
	int			k;				/* embedding size */
	sf_int_list layers;			/* ReLU MLP widths (callers fill the default [256, 128, 64]) */
	int			m;				/* grid parameter: head outputs at j/m, j = 1..m-1 */
	int			epochs;			/* passes over the training rows (upper bound) */
	int			batch_size;		/* rows per Adam step */
	double		learning_rate;	/* Adam step size */
	double		weight_decay;	/* L2 rate on weights and embeddings (not biases) */
	double		dropout;		/* drop probability of the MLP's hidden units */
	double		validation_share;	/* rows held out for the validation loss, 0 = none */
	int			patience;		/* epochs without improvement before stopping, 0 = off */
	int			min_count;		/* ids seen fewer times share the unknown bucket */
	double		unknown_share;	/* training ids replaced by the unknown bucket at this rate */
	int			transform;		/* index into {"log1p", "identity"} */
	int			tail;			/* sf_tail_rule: index into {"flat", "linear", "exponential"} */
	int			refit;			/* refit exact linear QRs on the learned features */
	int			refit_m;		/* grid of the refit, 0 = min(1000, max(100, ceil(sqrt n))) */
	int			threads;		/* training threads, 0 = the host's (scfrisk.threads) */
	int64_t		seed;			/* split, initialisation, shuffles, dropout */
	sf_str_list feature_names;	/* optional names: numeric then categorical fields */
	int			verbose;		/* report each epoch (env->progress); not stored */
} deepfm_params;

extern const sf_param_table deepfm_params_table;

/* Set the default layer list [256, 128, 64] (when the user gave no "layers" key). */
extern void deepfm_params_default_layers(deepfm_params *p);

/* Cross-field checks after parsing (layer count, widths). */
extern sf_status deepfm_params_check(sf_env *env, const deepfm_params *p);

/* A trained or decoded model; arrays are allocated through one env. */
typedef struct deepfm_model
{
	uint32_t	n_numeric;		/* numeric fields, first in a row */
	uint32_t	n_categorical;	/* categorical fields, after the numeric ones */
	int			k;				/* embedding size */
	int			m;				/* grid parameter: m-1 head outputs */
	sf_transform transform;		/* y = T(S) */
	sf_tail_rule tail;			/* knots qa_0 and qa_m of every curve (sf_qcurve_build_tail) */
	double		y_center;		/* training mean of y */
	double		y_scale;		/* training standard deviation of y (> 0) */
	double	   *num_mean;		/* (n_numeric) z-score centers */
	double	   *num_scale;		/* (n_numeric) z-score scales (> 0) */
	uint32_t   *vocab_off;		/* (n_categorical + 1) offsets into vocab */
	int32_t    *vocab;			/* known ids of field c: vocab[vocab_off[c]..vocab_off[c+1]), sorted */
	uint32_t   *row_off;		/* (F + 1) first embedding row of each field */
	uint32_t	n_rows_embed;	/* embedding rows: n_numeric + sum (len_c + 1) */
	float	   *params;			/* flat: embed (rows, k), first (rows), head_w (P, L), head_b (L) */
	size_t		n_params;		/* floats in params */
	float	   *embed;			/* points into params */
	float	   *first;			/* points into params */
	float	   *head_w;			/* points into params: (P, m-1) row-major */
	float	   *head_b;			/* points into params: (m-1) */
	nn_net		tower;			/* F*k inputs -> ReLU layers; last width H */
	int			n_phi;			/* P = F + k + H, the head's input width */
	uint32_t	epochs_run;		/* epochs trained */
	uint32_t	best_epoch;		/* epoch whose weights were kept (1-based) */
	float	   *log_train;		/* (epochs_run) mean training pinball loss per epoch */
	float	   *log_val;		/* (epochs_run) validation loss (NaN without validation) */
	int			refit_m;		/* 0: the head gives the curve; else the refit's grid */
	int			refit_p;		/* refit design columns: intercept + selected features */
	uint32_t   *refit_cols;		/* (refit_p - 1) increasing indices into phi */
	double	   *refit_coef;		/* (refit_m - 1, refit_p) y-scale coefficients, row-major */
	uint64_t	n_rows;			/* rows trained on */
	int64_t		seed;			/* params seed */
	char	   *params_json;	/* canonical params JSON (NUL-terminated) or NULL */
	char	   *info_json;		/* architecture and training log JSON or NULL */
} deepfm_model;

/* Fields F of a model. */
static inline uint32_t
deepfm_fields(const deepfm_model *model)
{
	return model->n_numeric + model->n_categorical;
}

/*
 * Train a model.  X is (n, n_numeric + n_categorical) row-major doubles
 * (numeric fields, then categorical ids), S (n) the responses on the sales
 * scale.  Errors: SF_EINVAL for parameters, SF_EDATA for non-finite values,
 * bad ids or responses outside the transform's domain, SF_ELIMIT for caps,
 * SF_ENUMERIC when training diverges, SF_ECANCEL on interrupt.  *out is
 * allocated through env.
 */
extern sf_status deepfm_fit(sf_env *env, const deepfm_params *params, const double *X,
							const double *S, size_t n, uint32_t n_numeric,
							uint32_t n_categorical, deepfm_model **out);

/*
 * The same on float32 rows X (n, n_numeric + n_categorical) whose id fields
 * hold int32 bits (the training aggregate's row store): the model is the one
 * deepfm_fit gives on the rows widened to double.
 */
extern sf_status deepfm_fit_f32(sf_env *env, const deepfm_params *params, const float *X,
								const double *S, size_t n, uint32_t n_numeric,
								uint32_t n_categorical, deepfm_model **out);
extern void deepfm_free(sf_env *env, deepfm_model *model);

/*
 * Embedding row of categorical field c (0-based) for id: the 1-based
 * position of id in the field's vocabulary, or 0 (the unknown bucket).
 */
extern uint32_t deepfm_category_index(const deepfm_model *model, uint32_t c, int32_t id);

/*
 * Check one covariate row x (F doubles): numeric fields finite, categorical
 * ids finite, integral and in [0, 2^31).  SF_EDATA naming the field.
 */
extern sf_status deepfm_check_row(sf_env *env, const deepfm_model *model, const double *x);

/* Scratch doubles deepfm_predict_row needs. */
extern size_t deepfm_scratch_size(const deepfm_model *model);

/*
 * q (m-1) = the head's outputs for a checked row x (F doubles), on the
 * y scale (un-standardised), before rearrangement.  tmp holds
 * deepfm_scratch_size doubles.
 */
extern void deepfm_predict_row(const deepfm_model *model, const double *x, double *q, double *tmp);

/*
 * q (refit_m - 1) = the refit's quantiles (y scale) for a checked row x, on
 * a model with refit_m > 0; tmp as for deepfm_predict_row.
 */
extern void deepfm_refit_row(const deepfm_model *model, const double *x, double *q, double *tmp);

/*
 * Refit (methods/qrgmm_scf.md section 4.2, last bullet): freeze the
 * network, compute phi(x) = [y1, y2, h] for the training rows X (n, F),
 * drop constant and collinear features, and fit exact linear quantile
 * regressions of y = T(S) on [1, phi] at levels j/m (qrgmm's solver and
 * level chains).  Sets the model's refit fields.
 */
extern sf_status deepfm_refit(sf_env *env, deepfm_model *model, const deepfm_params *params,
							  const double *X, const double *S, size_t n);

/* The rearranged curve for covariates x (F) (the refit's when present); out through env. */
extern sf_status deepfm_curve(sf_env *env, const deepfm_model *model, const double *x,
							  sf_qcurve *out);

/* Append the model's bytes (container included) to b. */
extern sf_status deepfm_encode(sf_env *env, const deepfm_model *model, sf_buf *b);

/*
 * Decode model bytes, checking every invariant (shapes, caps, sorted
 * vocabularies, finite weights, chained widths).  SF_ECORRUPT / SF_EKIND /
 * SF_EVERSION with env->msg on failure.  *out is allocated through env.
 */
extern sf_status deepfm_decode(sf_env *env, const uint8_t *buf, size_t len, deepfm_model **out);

/* The info fields the body holds (grid, transform, tail, the refit's shape). */
extern void deepfm_body_json(const deepfm_model *model, sf_buf *b);

/* ------------------------------------------------ internal, for deepfm*.c and tests */

/* Scratch of one mini-batch through the whole network. */
typedef struct deepfm_work
{
	int			max_batch;		/* rows a batch may hold */
	uint32_t   *rows;			/* (B, F) embedding row of each field */
	float	   *vals;			/* (B, F) multiplier: z-score or 1 */
	float	   *emb;			/* (B, F*k) looked-up embeddings, the tower's input */
	float	   *sum;			/* (B, k) sum over fields of e_f */
	float	   *phi;			/* (B, P) head input [y1, y2, h after dropout] */
	uint8_t    *hmask;			/* (B, H) dropout keep flags of h */
	float	   *q;				/* (B, L) head outputs (standardised) */
	float	   *dq;				/* (B, L) dLoss/dq */
	float	   *dphi;			/* (B, P) */
	float	   *demb;			/* (B, F*k) */
	float	   *grad;			/* (n_params) gradient of model->params */
	nn_work		tw;				/* tower scratch (its grad is the tower's) */
} deepfm_work;

extern sf_status deepfm_work_new(sf_env *env, const deepfm_model *model, int max_batch,
								 deepfm_work *w);
extern void deepfm_work_free(sf_env *env, deepfm_work *w);

/*
 * Encode rows X (m, F) into w->rows / w->vals (checked rows only: the fit
 * checks every row first).
 */
extern void deepfm_batch_inputs(const deepfm_model *model, deepfm_work *w, const double *X,
								const uint32_t *idx, int m);

/*
 * Forward pass of the encoded batch into w->q (m, m-1); with dropout > 0
 * and rng non-NULL the MLP's hidden units are dropped (training).
 */
extern void deepfm_forward(const deepfm_model *model, deepfm_work *w, int m, double dropout,
						   sf_rng *rng);

/* Sum over the batch of the level-averaged pinball loss of w->q against y (m). */
extern double deepfm_batch_loss(const deepfm_model *model, const deepfm_work *w,
								const float *y, int m);

/*
 * Backward pass after deepfm_forward on m rows: w->grad (and w->tw.grad for
 * the tower) = gradient of (sum over the m rows of the level-averaged
 * pinball loss) / norm_rows + 0.5 weight_decay |non-bias weights|^2.  A
 * batch split into shards passes the batch's rows as norm_rows and the
 * weight decay to one shard only, so the shard gradients sum to the batch's.
 */
extern void deepfm_backward(const deepfm_model *model, deepfm_work *w, const float *y, int m,
							int norm_rows, double weight_decay);

/* Sharded training step (deepfm_train.c). */
#define DEEPFM_MAX_SHARDS		8	/* shards of one batch, at most */
#define DEEPFM_SHARD_ROWS		64	/* rows a shard aims at */

typedef struct deepfm_trainer
{
	int			max_shards;		/* shards per batch, at most (from the model's size) */
	int			threads;		/* threads sharing the shards, >= 1 */
	int			batch_size;		/* largest batch */
	int			shard_rows;		/* rows each shard's scratch holds */
	deepfm_work w[DEEPFM_MAX_SHARDS];	/* per shard; w[0].grad holds the batch's gradient */
	float	   *yb[DEEPFM_MAX_SHARDS];	/* per shard responses */
} deepfm_trainer;

extern sf_status deepfm_trainer_new(sf_env *env, const deepfm_model *model, int batch_size,
									int threads, deepfm_trainer *t);
extern void deepfm_trainer_free(sf_env *env, deepfm_trainer *t);

/*
 * Forward and backward pass of the rows idx[0..bm) (bm <= batch_size) of
 * X / ys, in shards on up to t->threads threads; leaves the gradient of the
 * batch's mean loss (+ weight decay) in t->w[0].grad and t->w[0].tw.grad,
 * the same floats for any thread count.  Each categorical id is replaced by
 * its field's unknown bucket with probability unknown_share; that and
 * dropout draw from streams of (seed, step, shard).  Returns the summed loss of the batch's rows.
 */
extern double deepfm_trainer_step(const deepfm_trainer *t, const deepfm_model *model,
								  const double *X, const float *ys, const uint32_t *idx, int bm,
								  double dropout, double unknown_share, double weight_decay,
								  uint64_t seed, uint64_t step);

/* Lay out params for the model's shapes and allocate them (zero). */
extern sf_status deepfm_alloc_params(sf_env *env, deepfm_model *model);

#endif							/* SCFRISK_DEEPFM_H */
