/*
 * nn.h
 *	  A small feed-forward neural-network engine: dense layers, activations,
 *	  losses (log-loss, squared error, pinball), mini-batch Adam with L2
 *	  weight decay, inverted dropout, He/Glorot initialisation from sf_rng,
 *	  and the encoding of a network into model sections.
 *
 * The pieces are separate so that other kinds (the MLP, the hybrid, a
 * DeepFM quantile network) can combine them: an nn_net owns its parameters
 * in one contiguous float array (layer weights and biases point into it),
 * an nn_work holds the scratch of one mini-batch (activations, deltas,
 * gradients, dropout masks) and an nn_adam the optimiser moments over the
 * same flat parameter vector.  The output layer may have several units (a
 * multi-output head, e.g. one unit per quantile level).
 *
 * All matrices are float32 row-major; products go through sf_sgemm.
 */
#ifndef SCFRISK_NN_H
#define SCFRISK_NN_H

#include "scfrisk/sf_core.h"
#include "scfrisk/sf_container.h"
#include "scfrisk/sf_rng.h"

#define NN_MAX_LAYERS		33		/* hidden layers (SF_PARAM_LIST_MAX) + output */
#define NN_MAX_UNITS		4096	/* widest layer accepted */
#define NN_MAX_PARAMS		(8u * 1024u * 1024u)	/* cap on weights of one net (32 MB) */

typedef enum nn_activation
{
	NN_ACT_IDENTITY = 0,
	NN_ACT_RELU = 1,
	NN_ACT_TANH = 2,
	NN_ACT_SIGMOID = 3
} nn_activation;
#define NN_ACT_MAX			3

typedef enum nn_loss_kind
{
	NN_LOSS_LOGLOSS = 0,		/* output through a sigmoid, y in {0, 1} */
	NN_LOSS_SQUARED = 1,		/* 0.5 (f - y)^2, identity output */
	NN_LOSS_PINBALL = 2			/* pinball at taus[k] for output k */
} nn_loss_kind;

/* A loss over the output units: kind plus quantile levels for pinball. */
typedef struct nn_loss
{
	nn_loss_kind kind;
	int			n_out;			/* output units the loss covers */
	const double *taus;			/* pinball only: n_out levels in (0, 1) */
} nn_loss;

/* One fully connected layer: out = act(in W + b). */
typedef struct nn_dense
{
	int			n_in;			/* input width */
	int			n_out;			/* output width (units) */
	nn_activation act;			/* activation applied to the affine output */
	float	   *w;				/* (n_in, n_out) row-major, points into net->params */
	float	   *b;				/* (n_out), points into net->params */
} nn_dense;

/* A stack of dense layers with its parameters in one array. */
typedef struct nn_net
{
	int			n_layers;		/* dense layers, >= 1 (the last is the output) */
	nn_dense	layers[NN_MAX_LAYERS];
	size_t		n_params;		/* floats in params */
	float	   *params;			/* all weights then biases, layer by layer; owned */
} nn_net;

/*
 * Allocate a net with widths[0] inputs and n_layers layers, layer l mapping
 * widths[l] to widths[l + 1] with acts[l].  Parameters are zero until
 * nn_net_init_weights.  Free with nn_net_free.
 */
extern sf_status nn_net_new(sf_env *env, nn_net *net, int n_layers, const int *widths,
							const nn_activation *acts);
extern void nn_net_free(sf_env *env, nn_net *net);

/*
 * Initialise weights from rng: He normal (std sqrt(2 / n_in)) for ReLU
 * layers, Glorot uniform (limit sqrt(6 / (n_in + n_out))) otherwise; biases
 * zero.  Deterministic for a given rng state.
 */
extern void nn_net_init_weights(nn_net *net, sf_rng *rng);

/* Scratch for forward/backward passes over batches of up to max_batch rows. */
typedef struct nn_work
{
	int			max_batch;		/* rows a batch may hold */
	float	   *act[NN_MAX_LAYERS];	/* (max_batch, n_out of layer l) post-activation */
	float	   *delta[NN_MAX_LAYERS];	/* (max_batch, n_out of layer l) dLoss/dz */
	uint8_t    *mask[NN_MAX_LAYERS];	/* dropout keep flags of hidden layer outputs */
	float	   *grad;			/* (net->n_params) gradient, same layout as params */
	double		dropout;		/* dropout rate of the last forward pass (0: none) */
} nn_work;

extern sf_status nn_work_new(sf_env *env, const nn_net *net, int max_batch, nn_work *work);
extern void nn_work_free(sf_env *env, nn_work *work);

/*
 * Forward pass of m rows x (m, n_in).  With dropout > 0 and rng non-NULL,
 * hidden outputs are dropped with that probability and the kept ones scaled
 * by 1 / (1 - dropout) (inverted dropout); otherwise inference.  The output
 * is work->act[n_layers - 1], (m, n_out).
 */
extern void nn_forward(const nn_net *net, nn_work *work, const float *x, int m,
					   double dropout, sf_rng *rng);

/*
 * Loss of the last forward pass against y (m, n_out) with row weights sw
 * (NULL: all 1), summed over rows and outputs (not averaged).  For log-loss
 * the output layer must be a sigmoid.
 */
extern double nn_loss_value(const nn_loss *loss, const float *out, const float *y,
							const float *sw, int m);

/*
 * Backward pass after nn_forward on the same x: fills work->grad with the
 * gradient of (sum of weighted losses) / m plus weight_decay * W (weights
 * only, not biases).  Log-loss assumes a sigmoid output, squared error and
 * pinball an identity output.
 */
extern void nn_backward(const nn_net *net, nn_work *work, const nn_loss *loss,
						const float *x, const float *y, const float *sw, int m,
						double weight_decay);

/*
 * Backpropagation from a given output delta: work->delta[n_layers - 1]
 * (m, n_out) must hold dLoss/dz of the output layer (averaged over the
 * batch), after nn_forward on the same x.  Fills work->grad like
 * nn_backward; with dx non-NULL also dx (m, n_in) = dLoss/dx, the gradient
 * with respect to the input rows (used to train embeddings feeding the net).
 */
extern void nn_backprop(const nn_net *net, nn_work *work, const float *x, int m,
						double weight_decay, float *dx);

/* Adam state over a net's flat parameter vector. */
typedef struct nn_adam
{
	double		lr;				/* step size */
	double		beta1;			/* first-moment decay (0.9) */
	double		beta2;			/* second-moment decay (0.999) */
	double		eps;			/* denominator guard (1e-8) */
	int64_t		t;				/* steps taken */
	size_t		n;				/* parameters */
	float	   *m;				/* (n) first moments, owned */
	float	   *v;				/* (n) second moments, owned */
} nn_adam;

extern sf_status nn_adam_new(sf_env *env, nn_adam *opt, size_t n, double lr);
extern void nn_adam_free(sf_env *env, nn_adam *opt);
/* One Adam step (Kingma and Ba 2015, bias-corrected) on params with grad. */
extern void nn_adam_step(nn_adam *opt, float *params, const float *grad);

/*
 * Score one row x (n_in doubles) into out (n_out doubles) without batch
 * scratch: the path of per-row SQL prediction.  tmp holds 2 * widest layer
 * floats.
 */
extern void nn_predict_row(const nn_net *net, const double *x, double *out, float *tmp);

/*
 * Point the row kernel of nn_predict_row at the fastest one the CPU runs
 * (AVX2 + FMA on x86-64, else the portable one); returns 1 when SIMD is in
 * use.  Called once from _PG_init; until then the portable kernel runs.
 */
extern int	nn_kernels_init(void);

/* Tests: simd = 0 forces the portable kernel, 1 picks SIMD where the CPU has it. */
extern int	nn_kernels_select(int simd);

/*
 * nn_predict_row in double precision (the float32 weights widened exactly):
 * the path a scorer takes when the float32 pass leaves the float range (a
 * standardised input beyond it, or a layer overflowing).  tmp holds 2 *
 * widest layer doubles.
 */
extern void nn_predict_row_f64(const nn_net *net, const double *x, double *out, double *tmp);

/*
 * Largest magnitude any pre-activation of the net can reach, in double, when
 * input i is at most in_bound[i] in magnitude (interval propagation through
 * |W| and |b|; tanh and sigmoid bound their outputs by 1).  tmp holds 2 *
 * widest layer doubles.  A decoder refuses a net whose bound over its input
 * domain is past NN_SAFE_BOUND: then nn_predict_row_f64 of any input in the
 * domain is finite (the bound leaves room for rounding), so a scorer never
 * gives NaN or infinity for finite input.
 */
#define NN_SAFE_BOUND		1e300
extern double nn_net_bound(const nn_net *net, const double *in_bound, double *tmp);

/* Widest layer of a net (inputs included), to size nn_predict_row's tmp. */
extern int	nn_net_max_width(const nn_net *net);

/*
 * Write a net to b: uint32 n_layers, then per layer uint32 n_in, uint32
 * n_out, uint8 activation, n_in*n_out float32 weights (row-major), n_out
 * float32 biases.
 */
extern void nn_net_encode(const nn_net *net, sf_buf *b);

/*
 * Read a net written by nn_net_encode from r, checking every invariant
 * (layer count, chained widths, caps, known activations, finite weights).
 * Returns SF_ECORRUPT with env->msg on failure, leaving net empty.
 */
extern sf_status nn_net_decode(sf_env *env, sf_reader *r, nn_net *net);

/*
 * A params list of n layer widths under key: 1 to max of them (SF_EINVAL
 * naming the key, and a layer's unit, "size" or "width", otherwise).
 */
extern sf_status nn_check_layers(sf_env *env, int n, int max, const char *key, const char *unit);

#endif							/* SCFRISK_NN_H */
