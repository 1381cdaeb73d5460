/*
 * blas.c
 *	  The BLAS door (sf_blas.h): OpenBLAS through CBLAS when HAVE_CBLAS is
 *	  defined, otherwise the naive kernels, which are always compiled so unit
 *	  tests can compare the two paths.
 *
 * OpenBLAS threads: the library's pool is created when the backend first
 * loads scfrisk (never in the postmaster, which does not preload it), and
 * sf_blas_set_threads sets the count per call from scfrisk.threads.
 */
#include <math.h>

#include "scfrisk/sf_blas.h"

#ifdef HAVE_CBLAS
#include <cblas.h>
#endif

void
sf_blas_set_threads(int n)
{
#ifdef HAVE_CBLAS
	openblas_set_num_threads(n < 1 ? 1 : n);
#else
	(void) n;
#endif
}

const char *
sf_blas_backend(void)
{
#ifdef HAVE_CBLAS
	return "openblas";
#else
	return "naive";
#endif
}

/* ------------------------------------------------------------ naive */

/* Element (i, j) of op(X) where X is stored row-major with stride ld. */
#define OP(x, trans, i, j, ld) ((trans) ? (x)[(size_t) (j) * (ld) + (i)] : (x)[(size_t) (i) * (ld) + (j)])

/*
 * The float and double kernels of one operation share their body: each
 * macro below defines both from one text, so the two precisions cannot
 * drift apart (T the element type, ZERO its zero).
 */
#define SF_GEMM_NAIVE(name, T, ZERO) \
void \
name(int trans_a, int trans_b, int m, int n, int k, \
	 T alpha, const T *a, int lda, \
	 const T *b, int ldb, \
	 T beta, T *c, int ldc) \
{ \
	int			i, \
				j, \
				p; \
\
	for (i = 0; i < m; i++) \
		for (j = 0; j < n; j++) \
		{ \
			T			acc = ZERO; \
\
			for (p = 0; p < k; p++) \
				acc += OP(a, trans_a, i, p, lda) * OP(b, trans_b, p, j, ldb); \
			c[(size_t) i * ldc + j] = alpha * acc + \
				(beta == ZERO ? ZERO : beta * c[(size_t) i * ldc + j]); \
		} \
}

SF_GEMM_NAIVE(sf_sgemm_naive, float, 0.0f)
SF_GEMM_NAIVE(sf_dgemm_naive, double, 0.0)

void
sf_dgemv_naive(int trans_a, int m, int n, double alpha, const double *a, int lda,
			   const double *x, double beta, double *y)
{
	int			rows = trans_a ? n : m;
	int			cols = trans_a ? m : n;
	int			i,
				j;

	for (i = 0; i < rows; i++)
	{
		double		acc = 0.0;

		for (j = 0; j < cols; j++)
			acc += OP(a, trans_a, i, j, lda) * x[j];
		y[i] = alpha * acc + (beta == 0.0 ? 0.0 : beta * y[i]);
	}
}

/* ------------------------------------------------------------ dispatch */

/* sf_sgemm and sf_dgemm: CBLAS's gemm of the precision, or the naive kernel */
#ifdef HAVE_CBLAS
#define SF_GEMM(name, T, cblas_gemm, naive) \
void \
name(int trans_a, int trans_b, int m, int n, int k, T alpha, const T *a, int lda, \
	 const T *b, int ldb, T beta, T *c, int ldc) \
{ \
	cblas_gemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, \
			   trans_b ? CblasTrans : CblasNoTrans, m, n, k, \
			   alpha, a, lda, b, ldb, beta, c, ldc); \
}
#else
#define SF_GEMM(name, T, cblas_gemm, naive) \
void \
name(int trans_a, int trans_b, int m, int n, int k, T alpha, const T *a, int lda, \
	 const T *b, int ldb, T beta, T *c, int ldc) \
{ \
	naive(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); \
}
#endif

SF_GEMM(sf_sgemm, float, cblas_sgemm, sf_sgemm_naive)
SF_GEMM(sf_dgemm, double, cblas_dgemm, sf_dgemm_naive)

void
sf_dgemv(int trans_a, int m, int n, double alpha, const double *a, int lda,
		 const double *x, double beta, double *y)
{
#ifdef HAVE_CBLAS
	cblas_dgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, m, n,
				alpha, a, lda, x, 1, beta, y, 1);
#else
	sf_dgemv_naive(trans_a, m, n, alpha, a, lda, x, beta, y);
#endif
}

/* sf_sdot, sf_ddot, sf_saxpy, sf_daxpy: CBLAS's, or the loop in the same order */
#ifdef HAVE_CBLAS
#define SF_DOT(name, T, cblas_dot) \
T \
name(int n, const T *x, const T *y) \
{ \
	return cblas_dot(n, x, 1, y, 1); \
}
#define SF_AXPY(name, T, cblas_axpy) \
void \
name(int n, T alpha, const T *x, T *y) \
{ \
	cblas_axpy(n, alpha, x, 1, y, 1); \
}
#else
#define SF_DOT(name, T, cblas_dot) \
T \
name(int n, const T *x, const T *y) \
{ \
	T			acc = 0; \
	int			i; \
\
	for (i = 0; i < n; i++) \
		acc += x[i] * y[i]; \
	return acc; \
}
#define SF_AXPY(name, T, cblas_axpy) \
void \
name(int n, T alpha, const T *x, T *y) \
{ \
	int			i; \
\
	for (i = 0; i < n; i++) \
		y[i] += alpha * x[i]; \
}
#endif

SF_DOT(sf_sdot, float, cblas_sdot)
SF_DOT(sf_ddot, double, cblas_ddot)
SF_AXPY(sf_saxpy, float, cblas_saxpy)
SF_AXPY(sf_daxpy, double, cblas_daxpy)

int
sf_cholesky(double *a, int k)
{
	int			i,
				j,
				t;

	for (j = 0; j < k; j++)
	{
		double		s = a[(size_t) j * k + j];

		for (t = 0; t < j; t++)
			s -= a[(size_t) j * k + t] * a[(size_t) j * k + t];
		if (!(s > 0.0) || !isfinite(s))
			return -1;
		s = sqrt(s);
		a[(size_t) j * k + j] = s;
		for (i = j + 1; i < k; i++)
		{
			double		v = a[(size_t) i * k + j];

			for (t = 0; t < j; t++)
				v -= a[(size_t) i * k + t] * a[(size_t) j * k + t];
			a[(size_t) i * k + j] = v / s;
		}
	}
	return 0;
}

void
sf_cholesky_solve(const double *l, int k, double *b)
{
	int			i,
				t;

	for (i = 0; i < k; i++)
	{
		double		v = b[i];

		for (t = 0; t < i; t++)
			v -= l[(size_t) i * k + t] * b[t];
		b[i] = v / l[(size_t) i * k + i];
	}
	for (i = k - 1; i >= 0; i--)
	{
		double		v = b[i];

		for (t = i + 1; t < k; t++)
			v -= l[(size_t) t * k + i] * b[t];
		b[i] = v / l[(size_t) i * k + i];
	}
}
