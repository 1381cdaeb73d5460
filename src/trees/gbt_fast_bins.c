/*
 * gbt_fast_bins.c
 *	  The byte-code form of the fast tree scorer (include/scfrisk/gbt_fast_bins.h):
 *	  every node of a depth-6 tree evaluated at once with AVX2 byte compares,
 *	  the leaf found from the 63 outcomes with two table lookups.
 *
 * Why: the padded walk (gbt_fast.c) is a chain of dependent loads per tree
 * level (node, then the row's value, then the compare, then the child), 600
 * steps a row for 100 trees of depth 6, and about 8 instructions a step.
 * Once the row is coded as one byte per feature (its bin among that
 * feature's split conditions), the 40-odd bytes of a row fit in a few
 * registers, and a byte shuffle (vpshufb) looks up the value of 32 nodes at
 * once: no gather (microcoded on this project's AMD EPYC), no dependent
 * load.  Evaluating all 63 nodes of a tree costs two such 32-byte steps,
 * fewer instructions than the 6 steps of the walk, and the steps of
 * different trees are independent.  The leaf is then read off the outcome
 * word: the top three levels (7 bits) give the level-3 subtree, whose 7
 * bits give the leaf, each through a 128-entry table.
 *
 * The cost moved to the row: a binary search per used feature among its
 * sorted split conditions (at most 254), done as two 16-wide compares.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gbt_int.h"
#include "scfrisk/gbt_fast_bins.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GBT_BINS_X86 1
#include <immintrin.h>
#endif

/*
 * LEAF3[m]: the leaf (0..7, left to right) a depth-3 tree reaches when bit
 * j of m is the outcome ("right") of its node j in level order: j = 0, then
 * three times j = 2j + 1 + bit j, leaf j - 7.
 */
#define LEAF3_VALUES(X) \
	X(0), X(4), X(2), X(4), X(0), X(6), X(2), X(6), X(1), X(4), X(2), X(4), X(1), X(6), X(2), X(6), \
	X(0), X(4), X(3), X(4), X(0), X(6), X(3), X(6), X(1), X(4), X(3), X(4), X(1), X(6), X(3), X(6), \
	X(0), X(5), X(2), X(5), X(0), X(6), X(2), X(6), X(1), X(5), X(2), X(5), X(1), X(6), X(2), X(6), \
	X(0), X(5), X(3), X(5), X(0), X(6), X(3), X(6), X(1), X(5), X(3), X(5), X(1), X(6), X(3), X(6), \
	X(0), X(4), X(2), X(4), X(0), X(7), X(2), X(7), X(1), X(4), X(2), X(4), X(1), X(7), X(2), X(7), \
	X(0), X(4), X(3), X(4), X(0), X(7), X(3), X(7), X(1), X(4), X(3), X(4), X(1), X(7), X(3), X(7), \
	X(0), X(5), X(2), X(5), X(0), X(7), X(2), X(7), X(1), X(5), X(2), X(5), X(1), X(7), X(2), X(7), \
	X(0), X(5), X(3), X(5), X(0), X(7), X(3), X(7), X(1), X(5), X(3), X(5), X(1), X(7), X(3), X(7)
#define LEAF3_LEAF(s)	(s)
/*
 * For the top three levels, the two numbers the next step needs of the
 * level-3 subtree s reached: the shift of its 7 outcome bits (7 + 7s, bits
 * 0-5) and the index of its first leaf (8s, bits 8 and up), so the leaf
 * costs one shift and one add past the lookups (a shift by a register reads
 * only the count's low 6 bits).
 */
#define LEAF3_TOP(s)	(uint16_t) ((7 + 7 * (s)) | (8 * (s)) << 8)

static const uint8_t LEAF3[128] = {LEAF3_VALUES(LEAF3_LEAF)};
static const uint16_t TOP3[128] = {LEAF3_VALUES(LEAF3_TOP)};

/* ------------------------------------------------------------ build */

int
gbt_fast_bins_supported(void)
{
#ifdef GBT_BINS_X86
	return __builtin_cpu_supports("avx2") != 0;
#else
	return 0;
#endif
}

static int
cmp_float(const void *a, const void *b)
{
	float		x = *(const float *) a,
				y = *(const float *) b;

	return x < y ? -1 : x > y;
}

/*
 * The byte of level-order position p of a complete depth-6 tree in the
 * blocked order: the top three levels first, then each level-3 subtree.
 */
static int
block_byte(int p)
{
	int			lev = 0,
				sub,
				q,
				s;

	while (p + 1 >= (2 << lev))
		lev++;
	if (lev < 3)
		return p;
	sub = lev - 3;				/* level inside the subtree */
	q = p - ((1 << lev) - 1);	/* index along the level */
	s = q >> sub;
	return 7 + 7 * s + ((1 << sub) - 1) + (q & ((1 << sub) - 1));
}

/* Index of cond among the n sorted distinct cuts (it is there, by ==). */
static uint32_t
cut_index(const float *cuts, uint32_t n, float cond)
{
	uint32_t	lo = 0,
				hi = n;

	while (lo < hi)
	{
		uint32_t	mid = (lo + hi) / 2;

		if (cuts[mid] < cond)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * A code c (1..255) as the nodes store it: a node goes right when its
 * (unsigned) bin is at least c, i.e. above c - 1; with the top bit of
 * both flipped (x ^ 0x80 is x + 128 modulo 256, which maps 0..255 onto
 * -128..127 in order) that is one signed byte compare.  The row's bins are
 * stored flipped too (row_table).
 */
#define STORED_CODE(c)	((uint8_t) (((c) - 1) ^ 0x80))

typedef struct bins_fill
{
	const gbt_fast_bins *b;
	const uint32_t *slot_of;
	uint8_t    *entry;			/* the tree's 64 table entries */
	uint8_t    *code;			/* its 64 codes */
	float	   *leaves;			/* its 64 leaves */
} bins_fill;

/*
 * Tree node k at level-order position pos (level lev) of the padded tree.
 * A leaf above level 6 fills its padded subtree with its value; the dummy
 * nodes keep entry 0 and code 1 and may send a row either way.  A code c
 * is stored as STORED_CODE(c) for eval32's signed compare.
 */
static void
fill_node(const bins_fill *f, const gbt_tree *t, int32_t k, int pos, int lev)
{
	if (lev == GBT_BINS_DEPTH)
	{
		f->leaves[pos - 63] = t->split_cond[k];
		return;
	}
	if (t->left[k] < 0)
	{
		fill_node(f, t, k, 2 * pos + 1, lev + 1);
		fill_node(f, t, k, 2 * pos + 2, lev + 1);
		return;
	}
	{
		uint32_t	s = f->slot_of[t->split_index[k]];
		/* the sorted conditions follow the slot's 16 summary values */
		uint32_t	lo = f->b->cut_off[s] + 16;

		/* default left: bit 6 of the entry, and the code one up (eval32) */
		f->entry[block_byte(pos)] = (uint8_t) (s | (t->default_left[k] ? 64 : 0));
		f->code[block_byte(pos)] =
			STORED_CODE(cut_index(f->b->cuts + lo, f->b->cut_off[s + 1] - lo, t->split_cond[k]) + 1 +
						(t->default_left[k] ? 1 : 0));
	}
	fill_node(f, t, t->left[k], 2 * pos + 1, lev + 1);
	fill_node(f, t, t->right[k], 2 * pos + 2, lev + 1);
}

/*
 * The scorer's one block, its parts on 64-byte lines, so no 32-byte load of
 * nodes and no 16-value block of conditions straddles two lines (an
 * allocation is only 8- or 16-byte aligned: half the node loads crossed a
 * line and every block of conditions spanned two): the nodes and the leaves
 * (zeroed), then n_cuts condition values (a multiple of 16 per slot).
 * Returns 0 on no memory.
 */
static int
alloc_block(sf_env *env, gbt_fast_bins *b, uint32_t n_cuts)
{
	size_t		node_bytes = (size_t) b->n_trees * 128,
				leaf_bytes = (size_t) b->n_trees * 64 * sizeof(float);

	b->mem = sf_malloc(env, node_bytes + leaf_bytes + sizeof(float) * n_cuts + 63);
	if (b->mem == NULL)
		return 0;
	b->nodes = (uint8_t *) (((uintptr_t) b->mem + 63) & ~(uintptr_t) 63);
	b->leaves = (float *) (b->nodes + node_bytes);
	b->cuts = (float *) (b->nodes + node_bytes + leaf_bytes);
	memset(b->nodes, 0, node_bytes + leaf_bytes);
	return 1;
}

/*
 * The sorted distinct conditions of each slot into b->cuts and b->cut_off
 * in the two-level layout bin_of reads: at cut_off[s], 16 summary values
 * (the last value of each block of 16, NaN past the last block), then the
 * blocks, padded with NaN (a NaN is never <= x, so padding counts
 * nothing); the last block always ends in padding.  raw holds every
 * condition by slot at off[s] .. off[s + 1] - 1 (sorted and compacted
 * here, the count left in distinct[s]).  The conditions' size known, the
 * scorer's one block is allocated here (alloc_block).  Returns 0 when a
 * slot has more than GBT_BINS_MAX_CUTS, -1 on no memory.
 */
static int
pad_cuts(sf_env *env, gbt_fast_bins *b, float *raw, const uint32_t *off, uint32_t *distinct)
{
	uint32_t	s,
				total = 0;

	for (s = 0; s < b->n_used; s++)
	{
		float	   *c = raw + off[s];
		uint32_t	n = off[s + 1] - off[s],
					u = 0,
					j;

		/* one of each value by ==: -0 and 0 are one condition, as compares see them */
		qsort(c, n, sizeof(float), cmp_float);
		for (j = 0; j < n; j++)
			if (u == 0 || c[j] != c[u - 1])
				c[u++] = c[j];
		if (u > GBT_BINS_MAX_CUTS)
			return 0;
		distinct[s] = u;
		b->cut_off[s] = total;
		total += 16 + 16 * (u / 16 + 1);
	}
	b->cut_off[b->n_used] = total;
	if (!alloc_block(env, b, total))
		return -1;
	for (s = 0; s < b->n_used; s++)
	{
		float	   *dst = b->cuts + b->cut_off[s];
		uint32_t	len = b->cut_off[s + 1] - b->cut_off[s] - 16,
					j;

		for (j = 0; j < len; j++)
			dst[16 + j] = j < distinct[s] ? raw[off[s] + j] : NAN;
		for (j = 0; j < 16; j++)
			dst[j] = 16 * j + 15 < len ? dst[16 + 16 * j + 15] : NAN;
	}
	return 1;
}

/* Every split condition by slot, then pad_cuts. */
static int
collect_cuts(sf_env *env, gbt_fast_bins *b, const gbt_tree *trees, int32_t n_trees,
			 const uint32_t *slot_of)
{
	uint32_t   *off = sf_calloc(env, b->n_used + 1, sizeof(uint32_t)),
			   *fill = sf_calloc(env, b->n_used + 1, sizeof(uint32_t));
	float	   *raw = NULL;
	uint32_t	s;
	int32_t		i,
				k;
	int			ok = -1;

	if (off == NULL || fill == NULL)
		goto done;
	for (i = 0; i < n_trees; i++)
		for (k = 0; k < trees[i].n_nodes; k++)
			if (trees[i].left[k] >= 0)
				off[slot_of[trees[i].split_index[k]] + 1]++;
	for (s = 0; s < b->n_used; s++)
		off[s + 1] += off[s];
	raw = sf_malloc(env, sizeof(float) * (off[b->n_used] ? off[b->n_used] : 1));
	if (raw == NULL)
		goto done;
	for (i = 0; i < n_trees; i++)
		for (k = 0; k < trees[i].n_nodes; k++)
			if (trees[i].left[k] >= 0)
			{
				s = slot_of[trees[i].split_index[k]];
				raw[off[s] + fill[s]++] = trees[i].split_cond[k];
			}
	ok = pad_cuts(env, b, raw, off, fill);
done:
	sf_free_all(env, off, fill, raw);
	return ok;
}

sf_status
gbt_fast_bins_build(sf_env *env, const gbt_tree *trees, int32_t n_trees, const uint32_t *slot_of,
					uint32_t n_used, int depth, gbt_fast_bins **out)
{
	gbt_fast_bins *b;
	int32_t		i;
	int			ok;

	*out = NULL;
	if (n_trees <= 0 || depth > GBT_BINS_DEPTH || n_used > GBT_BINS_MAX_USED ||
		!gbt_fast_bins_supported())
		return SF_OK;
	b = sf_calloc(env, 1, sizeof(gbt_fast_bins));
	if (b == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory building the tree scorer");
	b->n_trees = n_trees;
	b->n_used = n_used;
	b->wide = n_used > 16;
	b->cut_off = sf_calloc(env, n_used + 1, sizeof(uint32_t));
	ok = b->cut_off ? collect_cuts(env, b, trees, n_trees, slot_of) : -1;
	if (ok <= 0)
	{
		gbt_fast_bins_free(env, b);
		return ok < 0 ? sf_fail(env, SF_ENOMEM, "out of memory building the tree scorer") : SF_OK;
	}
	for (i = 0; i < n_trees; i++)
	{
		bins_fill	f = {b, slot_of, b->nodes + (size_t) i * 128, b->nodes + (size_t) i * 128 + 64,
		b->leaves + (size_t) i * 64};
		int			j;

		/* dummy nodes: entry 0, code 1 (any pair would do) */
		for (j = 0; j < 64; j++)
			f.code[j] = STORED_CODE(1);
		if (trees[i].n_nodes > 0)
			fill_node(&f, &trees[i], 0, 0, 0);
	}
	*out = b;
	return SF_OK;
}

void
gbt_fast_bins_free(sf_env *env, gbt_fast_bins *b)
{
	if (b != NULL)
		sf_free_all(env, b->cut_off, b->mem, b);
}

/* ------------------------------------------------------------ scoring */

#ifdef GBT_BINS_X86

#define BINS_AVX2 __attribute__((target("avx2")))

/* #{k < 16 : c[k] <= x} */
BINS_AVX2 static inline uint32_t
count16(const float *c, __m256 x)
{
	uint32_t	lo = (uint32_t) _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(c), x, _CMP_LE_OQ)),
				hi = (uint32_t) _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(c + 8), x, _CMP_LE_OQ));

	return (uint32_t) __builtin_popcount(lo | hi << 8);
}

/*
 * The bin of x among the sorted conditions of a slot (pad_cuts' layout):
 * the summary gives the block (the number of whole blocks <= x), the block
 * the rest; no data-dependent branch, two dependent steps (a binary search
 * takes eight, and mispredicts when it branches).  NaN gives 0.
 */
BINS_AVX2 static inline uint32_t
bin_of(const float *c, float x)
{
	__m256		v = _mm256_set1_ps(x);
	uint32_t	blk = count16(c, v);

	return 16 * blk + count16(c + 16 + 16 * blk, v);
}

/*
 * The row's bins by slot, a missing value as 255 (at most 254 otherwise),
 * with the top bit flipped as the codes are (STORED_CODE).
 */
BINS_AVX2 static inline void
row_table(const gbt_fast_bins *b, const uint32_t *used, const double *x, uint8_t *tab)
{
	uint32_t	s;

	memset(tab, 0x80, 32);
	for (s = 0; s < b->n_used; s++)
	{
		float		v = (float) x[used[s]];
		uint32_t	bin = bin_of(b->cuts + b->cut_off[s], v);

		tab[s] = (uint8_t) ((v != v ? 255 : bin) ^ 0x80);
	}
}

/*
 * Outcomes of 32 nodes: the row's bin each entry names (bits 0-3 pick
 * within a 16-byte table, bit 4 picks the table; vpshufb reads bits 0-3
 * and 7 only), compared with the codes.  A node whose missing values go
 * left has bit 6 of its entry set: its bin is raised by one (a missing 255
 * wraps to 0, below every code; adding one commutes with the flipped top
 * bit) and its code was raised by one at build.  Bit j of the result: node
 * j goes right (bin >= code, one signed compare of the flipped bytes).
 */
BINS_AVX2 static inline uint32_t
eval32(const uint8_t *entry, const uint8_t *code, const __m256i *tab, int wide)
{
	__m256i		e = _mm256_loadu_si256((const __m256i *) entry);
	__m256i		v = _mm256_shuffle_epi8(tab[0], e);
	__m256i		c;

	if (wide)					/* bit 4 of each byte to bit 7 picks the second table */
		v = _mm256_blendv_epi8(v, _mm256_shuffle_epi8(tab[1], e), _mm256_slli_epi16(e, 3));
	/* entries of default-left nodes are 64 and up: subtract -1 */
	v = _mm256_sub_epi8(v, _mm256_cmpgt_epi8(e, _mm256_set1_epi8(63)));
	c = _mm256_loadu_si256((const __m256i *) code);
	return (uint32_t) _mm256_movemask_epi8(_mm256_cmpgt_epi8(v, c));
}

/*
 * The leaf of the tree whose 128 bytes of nodes are at n and 64 leaves at
 * leaves: the 63 outcomes, the level-3 subtree from the top 7 (TOP3), the
 * leaf from that subtree's 7 (LEAF3).
 */
BINS_AVX2 static inline float
leaf_value(const uint8_t *n, const float *leaves, const __m256i *tab, int wide)
{
	uint64_t	m = eval32(n, n + 64, tab, wide) | (uint64_t) eval32(n + 32, n + 96, tab, wide) << 32;
	uint32_t	t = TOP3[m & 127];

	return leaves[(t >> 8) + LEAF3[(m >> (t & 63)) & 127]];
}

/* The 16-byte tables of the row, each in both 128-bit lanes. */
BINS_AVX2 static inline void
load_tables(const uint8_t *bytes, __m256i *tab)
{
	int			t;

	for (t = 0; t < 2; t++)
		tab[t] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *) (bytes + 16 * t)));
}

/*
 * s plus the leaves of every tree in float32, in tree order as XGBoost adds
 * them; inlined with a constant wide, so each loop has only the steps its
 * ensemble needs.
 */
BINS_AVX2 static inline __attribute__((always_inline)) float
add_leaves(const gbt_fast_bins *b, const __m256i *tab, float s, int wide)
{
	const uint8_t *n = b->nodes;
	const float *leaves = b->leaves;
	int32_t		i;

	/* two trees a step: half the loop's own instructions; the adds stay in tree order */
	for (i = 0; i + 1 < b->n_trees; i += 2, n += 256, leaves += 128)
	{
		float		a = leaf_value(n, leaves, tab, wide),
					c = leaf_value(n + 128, leaves + 64, tab, wide);

		s += a;
		s += c;
	}
	if (i < b->n_trees)
		s += leaf_value(n, leaves, tab, wide);
	return s;
}

BINS_AVX2 static float
margin_avx2(const gbt_fast_bins *b, const uint32_t *used, const double *x, float base)
{
	uint8_t		bytes[32];
	__m256i		tab[2];

	row_table(b, used, x, bytes);
	load_tables(bytes, tab);
	return b->wide ? add_leaves(b, tab, base, 1) : add_leaves(b, tab, base, 0);
}

BINS_AVX2 static double
sum_avx2(const gbt_fast_bins *b, const uint32_t *used, const double *x)
{
	uint8_t		bytes[32];
	__m256i		tab[2];
	double		s = 0.0;
	int32_t		i;

	row_table(b, used, x, bytes);
	load_tables(bytes, tab);
	for (i = 0; i < b->n_trees; i++)
		s += leaf_value(b->nodes + (size_t) i * 128, b->leaves + (size_t) i * 64, tab, b->wide);
	return s;
}
#endif							/* GBT_BINS_X86 */

float
gbt_fast_bins_margin(const gbt_fast_bins *b, const uint32_t *used, const double *x, float base)
{
#ifdef GBT_BINS_X86
	return margin_avx2(b, used, x, base);
#else
	/* never built without AVX2 (gbt_fast_bins_build) */
	(void) b;
	(void) used;
	(void) x;
	return base;
#endif
}

double
gbt_fast_bins_sum(const gbt_fast_bins *b, const uint32_t *used, const double *x)
{
#ifdef GBT_BINS_X86
	return sum_avx2(b, used, x);
#else
	(void) b;
	(void) used;
	(void) x;
	return 0.0;
#endif
}
