/*
 * sf_blas.h
 *	  The one door to BLAS.  With HAVE_CBLAS (the default build, OpenBLAS)
 *	  these call cblas_*; with NO_BLAS=1 the naive loops below run.  The naive
 *	  kernels are always compiled, as the test oracle (llm.c's
 *	  matmul_forward_naive habit).
 *
 * All matrices are row-major.  sf_sgemm computes
 *	  C (m x n) = alpha * op(A) * op(B) + beta * C
 * where op(A) is A (m x k) or its transpose (A stored k x m), likewise B.
 * lda/ldb/ldc are row strides of the stored matrices.
 */
#ifndef SCFRISK_SF_BLAS_H
#define SCFRISK_SF_BLAS_H

#include <stddef.h>

/* Set how many threads BLAS may use for the calls that follow (>= 1). */
extern void sf_blas_set_threads(int n);

/* Name of the backend in use: "openblas" or "naive". */
extern const char *sf_blas_backend(void);

extern void sf_sgemm(int trans_a, int trans_b, int m, int n, int k,
					 float alpha, const float *a, int lda,
					 const float *b, int ldb,
					 float beta, float *c, int ldc);
extern void sf_dgemm(int trans_a, int trans_b, int m, int n, int k,
					 double alpha, const double *a, int lda,
					 const double *b, int ldb,
					 double beta, double *c, int ldc);
/* y (len m or n) = alpha * op(A) x + beta * y, A is m x n row-major. */
extern void sf_dgemv(int trans_a, int m, int n, double alpha, const double *a, int lda,
					 const double *x, double beta, double *y);
extern float sf_sdot(int n, const float *x, const float *y);
extern double sf_ddot(int n, const double *x, const double *y);
extern void sf_saxpy(int n, float alpha, const float *x, float *y);
extern void sf_daxpy(int n, double alpha, const double *x, double *y);

/*
 * Dense Cholesky of a (k, k) row-major symmetric positive definite matrix,
 * in place: the lower triangle is read and replaced by L with A = L L' (the
 * strict upper triangle is left alone).  Returns 0, or -1 when a pivot is
 * not positive and finite (A not numerically positive definite).  Shared by
 * the Newton steps of logreg and the interior point of quantreg.
 */
extern int	sf_cholesky(double *a, int k);

/* Solve L L' x = b in place of b, with L from sf_cholesky. */
extern void sf_cholesky_solve(const double *l, int k, double *b);

/* The naive kernels, same contracts, always available. */
extern void sf_sgemm_naive(int trans_a, int trans_b, int m, int n, int k,
						   float alpha, const float *a, int lda,
						   const float *b, int ldb,
						   float beta, float *c, int ldc);
extern void sf_dgemm_naive(int trans_a, int trans_b, int m, int n, int k,
						   double alpha, const double *a, int lda,
						   const double *b, int ldb,
						   double beta, double *c, int ldc);
extern void sf_dgemv_naive(int trans_a, int m, int n, double alpha, const double *a, int lda,
						   const double *x, double beta, double *y);

#endif							/* SCFRISK_SF_BLAS_H */
