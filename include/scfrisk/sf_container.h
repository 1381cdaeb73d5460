/*
 * sf_container.h
 *	  The scfrisk model container: a fixed little-endian header followed by a
 *	  payload of tagged, length-prefixed sections.  docs/format.md documents
 *	  every byte.
 *
 * Header (SF_HEADER_LEN = 28 bytes, all integers little-endian):
 *	  0  magic           4 bytes "SCFR"
 *	  4  format_version  uint16, layout version of this kind (>= 1)
 *	  6  kind            uint16, sf_model_kind
 *	  8  flags           uint32, zero; unknown bits are rejected
 *	 12  n_features      uint32, input width the model expects
 *	 16  payload_len     uint64, bytes after the header
 *	 24  checksum        uint32, CRC-32C of the payload
 *
 * Payload: sections {uint16 tag, uint64 len, len bytes}, tags strictly
 * increasing.  Tags below SF_TAG_BODY are the common metadata every kind
 * carries (params JSON, feature names, rows, seed, info JSON); tags from
 * SF_TAG_BODY up belong to the kind's own encoder.
 *
 * Writing goes through an sf_buf (growable, allocator-backed); reading
 * through an sf_reader that checks every read against the end of the buffer,
 * so decoders are total functions over arbitrary bytes.
 */
#ifndef SCFRISK_SF_CONTAINER_H
#define SCFRISK_SF_CONTAINER_H

#include "scfrisk/sf_core.h"

#define SF_MAGIC			"SCFR"
#define SF_HEADER_LEN		28
#define SF_VALID_FLAGS		0u	/* no flag is defined yet */
#define SF_MAX_SECTIONS		64

/* Model kinds.  Values are stored on disk: never renumber, only append. */
typedef enum sf_model_kind
{
	SF_KIND_GBT = 1,			/* gradient-boosted trees (xgb_train) */
	SF_KIND_MLP = 2,			/* multi-layer perceptron (mlp_train) */
	SF_KIND_XGB_MLP = 3,		/* trees select features, MLP classifies */
	SF_KIND_LOGREG = 4,			/* L2 logistic regression */
	SF_KIND_QRGMM_LINEAR = 5,	/* QRGMM on linear quantile regressions */
	SF_KIND_QRGMM_DEEPFM = 6,	/* QRGMM on a quantile DeepFM network */
	SF_KIND_CART = 7,			/* one CART decision tree (tree_train) */
	SF_KIND_FOREST = 8,			/* random forest (rf_train) */
	SF_KIND_GAUSSIAN_NB = 9,	/* Gaussian naive Bayes (nb_train) */
	SF_KIND_LINEAR_SVM = 10,	/* linear SVM with Platt scaling (svm_train) */
	SF_KIND_KNN = 11			/* k nearest neighbours (knn_train) */
} sf_model_kind;

#define SF_KIND_MIN			1
#define SF_KIND_MAX			11

/* Common section tags.  Stored on disk: never renumber. */
#define SF_TAG_PARAMS		1	/* training parameters, canonical JSON text */
#define SF_TAG_FEATURE_NAMES 2	/* uint32 count, then count x {uint32 len, bytes} */
#define SF_TAG_TRAIN_ROWS	3	/* uint64 rows trained on */
#define SF_TAG_SEED			4	/* uint64 seed */
#define SF_TAG_INFO			5	/* kind-specific diagnostics, JSON text (model_info) */
#define SF_TAG_DRIFT		8	/* training distributions of score and features (sf_governance.h) */
/* 9: SF_TAG_BACKGROUND, the background sample of explanations (sf_explain.h) */
#define SF_TAG_CALIBRATION	10	/* calibration map applied by scfrisk.predict (sf_governance.h) */
#define SF_TAG_BODY			16	/* first tag owned by the kind's encoder */

/* Name of a kind ("gbt", "qrgmm_linear"), or NULL when the value is unknown. */
extern const char *sf_kind_name(uint16_t kind);

/* Kind with the given name, or 0 when there is none. */
extern uint16_t sf_kind_from_name(const char *name);

/* Newest format_version the decoders of this build read for a kind (0: unknown kind). */
extern uint16_t sf_kind_current_version(uint16_t kind);

/* CRC-32C (Castagnoli, reflected, as iSCSI and PostgreSQL's WAL use). */
extern uint32_t sf_crc32c(uint32_t crc, const void *data, size_t len);
#define SF_CRC32C_INIT		0xFFFFFFFFu
#define SF_CRC32C_FINAL(c)	((c) ^ 0xFFFFFFFFu)

/* ---------------------------------------------------------------- writing */

/* A growable byte buffer.  On allocation failure 'failed' is set and later
 * writes are ignored; sf_buf_status() reports it once at the end. */
typedef struct sf_buf
{
	uint8_t    *data;			/* owned, allocated through env */
	size_t		len;			/* bytes written */
	size_t		cap;			/* bytes allocated */
	int			failed;			/* an allocation failed */
	sf_env	   *env;
} sf_buf;

extern void sf_buf_init(sf_buf *b, sf_env *env);
extern void sf_buf_free(sf_buf *b);
extern sf_status sf_buf_status(const sf_buf *b);
extern void sf_buf_put_bytes(sf_buf *b, const void *p, size_t n);
extern void sf_buf_put_str(sf_buf *b, const char *s);	/* its bytes, no NUL: JSON texts */
/* s as a JSON string literal, quoted, with the escapes RFC 8259 requires */
extern void sf_buf_put_json_string(sf_buf *b, const char *s);
extern void sf_buf_put_u8(sf_buf *b, uint8_t v);
extern void sf_buf_put_u16(sf_buf *b, uint16_t v);
extern void sf_buf_put_u32(sf_buf *b, uint32_t v);
extern void sf_buf_put_u64(sf_buf *b, uint64_t v);
extern void sf_buf_put_i32(sf_buf *b, int32_t v);
extern void sf_buf_put_f32(sf_buf *b, float v);	/* IEEE-754 bits, little-endian */
extern void sf_buf_put_f64(sf_buf *b, double v);
/* Arrays of the above, element by element. */
extern void sf_buf_put_f32s(sf_buf *b, const float *v, size_t n);
extern void sf_buf_put_f64s(sf_buf *b, const double *v, size_t n);
extern void sf_buf_put_i32s(sf_buf *b, const int32_t *v, size_t n);

/* Start a container: writes a header to be completed by sf_container_finish. */
extern void sf_container_begin(sf_buf *b, uint16_t kind, uint32_t n_features);

/* Open a section with the given tag; returns a mark for sf_section_end. */
extern size_t sf_section_begin(sf_buf *b, uint16_t tag);
extern void sf_section_end(sf_buf *b, size_t mark);

/* Convenience: whole sections of common metadata. */
extern void sf_section_put_text(sf_buf *b, uint16_t tag, const char *text, size_t len);
extern void sf_section_put_u64(sf_buf *b, uint16_t tag, uint64_t v);
/* names is n_features strings (NUL-terminated); NULL writes no section. */
extern void sf_section_put_names(sf_buf *b, const char *const *names, uint32_t n);

/* Fill in payload_len and checksum.  The buffer then holds the model bytes. */
extern sf_status sf_container_finish(sf_buf *b);

/* ---------------------------------------------------------------- reading */

/* Bounds-checked little-endian reader.  A read past 'end' sets 'failed',
 * returns zero and leaves p at end: check sf_reader_ok() once at the end. */
typedef struct sf_reader
{
	const uint8_t *p;
	const uint8_t *end;
	int			failed;
} sf_reader;

extern void sf_reader_init(sf_reader *r, const void *data, size_t len);
extern uint8_t sf_read_u8(sf_reader *r);
extern uint16_t sf_read_u16(sf_reader *r);
extern uint32_t sf_read_u32(sf_reader *r);
extern uint64_t sf_read_u64(sf_reader *r);
extern int32_t sf_read_i32(sf_reader *r);
extern float sf_read_f32(sf_reader *r);
extern double sf_read_f64(sf_reader *r);
/* Returns a pointer to n bytes inside the buffer, or NULL (and failed). */
extern const uint8_t *sf_read_bytes(sf_reader *r, size_t n);
/* Read n elements into out (caller-allocated); arrays are unaligned on disk. */
extern void sf_read_f32s(sf_reader *r, float *out, size_t n);
extern void sf_read_f64s(sf_reader *r, double *out, size_t n);
extern void sf_read_i32s(sf_reader *r, int32_t *out, size_t n);
/* True when 'count' elements of 'size' bytes remain (guards allocations). */
extern int	sf_reader_has(const sf_reader *r, uint64_t count, size_t size);
static inline int
sf_reader_ok(const sf_reader *r)
{
	return !r->failed;
}
static inline size_t
sf_reader_left(const sf_reader *r)
{
	return (size_t) (r->end - r->p);
}

/* One section of a decoded container; data points into the model bytes. */
typedef struct sf_section
{
	uint16_t	tag;
	const uint8_t *data;
	uint64_t	len;
} sf_section;

/* A decoded container header plus its section table (no copies made). */
typedef struct sf_container
{
	uint16_t	format_version;
	uint16_t	kind;
	uint32_t	flags;
	uint32_t	n_features;
	uint64_t	payload_len;
	uint32_t	checksum;
	int			n_sections;
	sf_section	sections[SF_MAX_SECTIONS];
} sf_container;

/*
 * Parse only the fixed header of buf (len >= SF_HEADER_LEN needed), checking
 * magic, kind, version and flags but not the payload.  Used to key caches on a
 * slice of a TOASTed model.
 */
extern sf_status sf_container_read_header(sf_env *env, const uint8_t *buf, size_t len,
										  sf_container *out);

/*
 * Decode a whole container: header checks, payload length equal to what
 * follows, CRC-32C, section table (tags increasing, lengths in range) and the
 * common metadata sections (well-formed names, JSON text without NUL bytes).
 * On success out->sections point into buf.  Returns SF_ECORRUPT or
 * SF_EVERSION with env->msg set on failure.
 */
extern sf_status sf_container_decode(sf_env *env, const uint8_t *buf, size_t len,
									 sf_container *out);

/* The section with this tag, or NULL. */
extern const sf_section *sf_container_find(const sf_container *c, uint16_t tag);

/*
 * Decode the container and also require a kind (SF_EKIND naming both kinds
 * when it differs).  The common entry point of every kind's decoder.
 */
extern sf_status sf_container_decode_kind(sf_env *env, const uint8_t *buf, size_t len,
										  uint16_t kind, sf_container *out);

/*
 * sf_container_decode_kind, then the input width checked against
 * 1..max_features (sf_corrupt "input width out of range" outside): the
 * entry of a decoder whose width is the header's.
 */
extern sf_status sf_container_decode_width(sf_env *env, const uint8_t *buf, size_t len,
										   uint16_t kind, uint32_t max_features,
										   sf_container *out);

/*
 * sf_container_decode_kind, then every section's tag at most max_tag
 * (SF_ECORRUPT "<kind's name> model has unknown section tag N" otherwise):
 * the entry of a decoder that refuses sections newer than it knows.
 */
extern sf_status sf_container_decode_tags(sf_env *env, const uint8_t *buf, size_t len,
										  uint16_t kind, uint16_t max_tag, sf_container *out);

/* SF_ECORRUPT "corrupted <kind's name> model: <what>", a decoder's invariant failure. */
extern sf_status sf_corrupt(sf_env *env, uint16_t kind, const char *what);

/*
 * Feature names of a decoded container: returns 1 and fills the i-th name
 * (pointer into the model bytes, not NUL-terminated) when present.
 */
extern int	sf_container_feature_name(const sf_container *c, uint32_t i,
									  const char **name, uint32_t *len);

#endif							/* SCFRISK_SF_CONTAINER_H */
