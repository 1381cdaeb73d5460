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

void
sf_sgemm_naive(int trans_a, int trans_b, int m, int n, int k,
			   float alpha, const float *a, int lda,
			   const float *b, int ldb,
			   float beta, float *c, int ldc)
{
	int			i,
				j,
				p;

	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++)
		{
			float		acc = 0.0f;

			for (p = 0; p < k; p++)
				acc += OP(a, trans_a, i, p, lda) * OP(b, trans_b, p, j, ldb);
			c[(size_t) i * ldc + j] = alpha * acc +
				(beta == 0.0f ? 0.0f : beta * c[(size_t) i * ldc + j]);
		}
}

void
sf_dgemm_naive(int trans_a, int trans_b, int m, int n, int k,
			   double alpha, const double *a, int lda,
			   const double *b, int ldb,
			   double beta, double *c, int ldc)
{
	int			i,
				j,
				p;

	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++)
		{
			double		acc = 0.0;

			for (p = 0; p < k; p++)
				acc += OP(a, trans_a, i, p, lda) * OP(b, trans_b, p, j, ldb);
			c[(size_t) i * ldc + j] = alpha * acc +
				(beta == 0.0 ? 0.0 : beta * c[(size_t) i * ldc + j]);
		}
}

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

void
sf_sgemm(int trans_a, int trans_b, int m, int n, int k,
		 float alpha, const float *a, int lda,
		 const float *b, int ldb,
		 float beta, float *c, int ldc)
{
#ifdef HAVE_CBLAS
	cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
				trans_b ? CblasTrans : CblasNoTrans, m, n, k,
				alpha, a, lda, b, ldb, beta, c, ldc);
#else
	sf_sgemm_naive(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

void
sf_dgemm(int trans_a, int trans_b, int m, int n, int k,
		 double alpha, const double *a, int lda,
		 const double *b, int ldb,
		 double beta, double *c, int ldc)
{
#ifdef HAVE_CBLAS
	cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
				trans_b ? CblasTrans : CblasNoTrans, m, n, k,
				alpha, a, lda, b, ldb, beta, c, ldc);
#else
	sf_dgemm_naive(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

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

float
sf_sdot(int n, const float *x, const float *y)
{
#ifdef HAVE_CBLAS
	return cblas_sdot(n, x, 1, y, 1);
#else
	float		acc = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
		acc += x[i] * y[i];
	return acc;
#endif
}

double
sf_ddot(int n, const double *x, const double *y)
{
#ifdef HAVE_CBLAS
	return cblas_ddot(n, x, 1, y, 1);
#else
	double		acc = 0.0;
	int			i;

	for (i = 0; i < n; i++)
		acc += x[i] * y[i];
	return acc;
#endif
}

void
sf_saxpy(int n, float alpha, const float *x, float *y)
{
#ifdef HAVE_CBLAS
	cblas_saxpy(n, alpha, x, 1, y, 1);
#else
	int			i;

	for (i = 0; i < n; i++)
		y[i] += alpha * x[i];
#endif
}

void
sf_daxpy(int n, double alpha, const double *x, double *y)
{
#ifdef HAVE_CBLAS
	cblas_daxpy(n, alpha, x, 1, y, 1);
#else
	int			i;

	for (i = 0; i < n; i++)
		y[i] += alpha * x[i];
#endif
}

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
