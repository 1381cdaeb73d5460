/*
 * container.c
 *	  The scfrisk model container: CRC-32C, the growable writer, the
 *	  bounds-checked reader, and header/section encoding and decoding.
 *
 * The layout is in sf_container.h and, byte by byte, in docs/format.md.
 * Encoding is explicit little-endian, field by field: never a memcpy of a
 * struct, so padding and host byte order never reach the disk.  Decoding is
 * total: every read is checked against the end of the buffer, every length
 * against what remains, and the section table must be canonical (tags
 * strictly increasing), so a byte string either decodes or yields
 * SF_ECORRUPT with a message naming the problem.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_explain.h"
#include "scfrisk/sf_governance.h"

/* The kinds (names, versions) are the one table of src/core/kinds.c. */

/* ------------------------------------------------------------ CRC-32C */

/* Table for the reflected Castagnoli polynomial 0x82F63B78. */
static const uint32_t crc32c_table[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c,
	0x26a1e7e8, 0xd4ca64eb, 0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c,
	0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc,
	0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512,
	0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad,
	0x1642ae59, 0xe4292d5a, 0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595, 0x417b1dbc, 0xb3109ebf,
	0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f,
	0xed03a29b, 0x1f682198, 0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f,
	0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e,
	0x4767748a, 0xb50cf789, 0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46, 0x7198540d, 0x83f3d70e,
	0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
	0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93, 0x082f63b7, 0xfa44e0b4,
	0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b,
	0xb4091bff, 0x466298fc, 0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6, 0x502036a5,
	0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975,
	0x0e330a81, 0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905,
	0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8,
	0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8,
	0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78,
	0x7fab5e8c, 0x8dc0dd8f, 0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1, 0x69e9f0d5, 0x9b8273d6,
	0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69,
	0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

uint32_t
sf_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return crc;
}

/* ------------------------------------------------------------ writer */

void
sf_buf_init(sf_buf *b, sf_env *env)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = 0;
	b->env = env;
}

void
sf_buf_free(sf_buf *b)
{
	sf_free(b->env, b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

sf_status
sf_buf_status(const sf_buf *b)
{
	return b->failed ? SF_ENOMEM : SF_OK;
}

/* Make room for n more bytes; doubles the capacity (amortised O(1) appends). */
static int
buf_reserve(sf_buf *b, size_t n)
{
	size_t		need;
	size_t		cap;
	uint8_t    *p;

	if (b->failed)
		return 0;
	if (n > SIZE_MAX - b->len)
	{
		b->failed = 1;
		return 0;
	}
	need = b->len + n;
	if (need <= b->cap)
		return 1;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
	{
		if (cap > SIZE_MAX / 2)
		{
			cap = need;
			break;
		}
		cap *= 2;
	}
	p = sf_malloc(b->env, cap);
	if (p == NULL)
	{
		b->failed = 1;
		return 0;
	}
	if (b->len)
		memcpy(p, b->data, b->len);
	sf_free(b->env, b->data);
	b->data = p;
	b->cap = cap;
	return 1;
}

void
sf_buf_put_bytes(sf_buf *b, const void *p, size_t n)
{
	if (n == 0 || !buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
sf_buf_put_str(sf_buf *b, const char *s)
{
	sf_buf_put_bytes(b, s, strlen(s));
}

void
sf_buf_put_json_string(sf_buf *b, const char *s)
{
	char		esc[8];

	sf_buf_put_u8(b, '"');
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
		{
			sf_buf_put_u8(b, '\\');
			sf_buf_put_u8(b, c);
		}
		else if (c < 0x20)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sf_buf_put_bytes(b, esc, 6);
		}
		else
			sf_buf_put_u8(b, c);
	}
	sf_buf_put_u8(b, '"');
}

/* Little-endian store of the low 'n' bytes of v. */
static void
put_le(sf_buf *b, uint64_t v, int n)
{
	uint8_t		tmp[8];
	int			i;

	for (i = 0; i < n; i++)
		tmp[i] = (uint8_t) (v >> (8 * i));
	sf_buf_put_bytes(b, tmp, (size_t) n);
}

void
sf_buf_put_u8(sf_buf *b, uint8_t v)
{
	put_le(b, v, 1);
}

void
sf_buf_put_u16(sf_buf *b, uint16_t v)
{
	put_le(b, v, 2);
}

void
sf_buf_put_u32(sf_buf *b, uint32_t v)
{
	put_le(b, v, 4);
}

void
sf_buf_put_u64(sf_buf *b, uint64_t v)
{
	put_le(b, v, 8);
}

void
sf_buf_put_i32(sf_buf *b, int32_t v)
{
	put_le(b, (uint32_t) v, 4);
}

void
sf_buf_put_f32(sf_buf *b, float v)
{
	uint32_t	bits;

	memcpy(&bits, &v, sizeof(bits));
	put_le(b, bits, 4);
}

void
sf_buf_put_f64(sf_buf *b, double v)
{
	uint64_t	bits;

	memcpy(&bits, &v, sizeof(bits));
	put_le(b, bits, 8);
}

/* sf_buf_put_f32s, sf_buf_put_f64s, sf_buf_put_i32s: room once, then n elements, one text */
#define SF_PUT_ARRAY(name, T, size, put_one) \
void \
name(sf_buf *b, const T *v, size_t n) \
{ \
	size_t		i; \
\
	if (!buf_reserve(b, n * size)) \
		return; \
	for (i = 0; i < n; i++) \
		put_one(b, v[i]); \
}

SF_PUT_ARRAY(sf_buf_put_f32s, float, 4, sf_buf_put_f32)
SF_PUT_ARRAY(sf_buf_put_f64s, double, 8, sf_buf_put_f64)
SF_PUT_ARRAY(sf_buf_put_i32s, int32_t, 4, sf_buf_put_i32)

/* Overwrite n little-endian bytes at offset (for lengths patched later). */
static void
patch_le(sf_buf *b, size_t offset, uint64_t v, int n)
{
	int			i;

	if (b->failed || offset + (size_t) n > b->len)
		return;
	for (i = 0; i < n; i++)
		b->data[offset + i] = (uint8_t) (v >> (8 * i));
}

void
sf_container_begin(sf_buf *b, uint16_t kind, uint32_t n_features)
{
	sf_buf_put_bytes(b, SF_MAGIC, 4);
	sf_buf_put_u16(b, sf_kind_current_version(kind));
	sf_buf_put_u16(b, kind);
	sf_buf_put_u32(b, 0);		/* flags */
	sf_buf_put_u32(b, n_features);
	sf_buf_put_u64(b, 0);		/* payload_len, patched by finish */
	sf_buf_put_u32(b, 0);		/* checksum, patched by finish */
}

size_t
sf_section_begin(sf_buf *b, uint16_t tag)
{
	size_t		mark;

	sf_buf_put_u16(b, tag);
	mark = b->len;
	sf_buf_put_u64(b, 0);		/* length, patched by sf_section_end */
	return mark;
}

void
sf_section_end(sf_buf *b, size_t mark)
{
	patch_le(b, mark, (uint64_t) (b->len - mark - 8), 8);
}

void
sf_section_put_text(sf_buf *b, uint16_t tag, const char *text, size_t len)
{
	size_t		mark = sf_section_begin(b, tag);

	sf_buf_put_bytes(b, text, len);
	sf_section_end(b, mark);
}

void
sf_section_put_u64(sf_buf *b, uint16_t tag, uint64_t v)
{
	size_t		mark = sf_section_begin(b, tag);

	sf_buf_put_u64(b, v);
	sf_section_end(b, mark);
}

void
sf_section_put_names(sf_buf *b, const char *const *names, uint32_t n)
{
	size_t		mark;
	uint32_t	i;

	if (names == NULL)
		return;
	mark = sf_section_begin(b, SF_TAG_FEATURE_NAMES);
	sf_buf_put_u32(b, n);
	for (i = 0; i < n; i++)
	{
		size_t		len = strlen(names[i]);

		sf_buf_put_u32(b, (uint32_t) len);
		sf_buf_put_bytes(b, names[i], len);
	}
	sf_section_end(b, mark);
}

sf_status
sf_container_finish(sf_buf *b)
{
	uint64_t	payload_len;
	uint32_t	crc;

	if (b->failed)
		return SF_ENOMEM;
	if (b->len < SF_HEADER_LEN)
		return SF_EINVAL;
	payload_len = b->len - SF_HEADER_LEN;
	crc = SF_CRC32C_FINAL(sf_crc32c(SF_CRC32C_INIT, b->data + SF_HEADER_LEN, payload_len));
	patch_le(b, 16, payload_len, 8);
	patch_le(b, 24, crc, 4);
	return SF_OK;
}

/* ------------------------------------------------------------ reader */

void
sf_reader_init(sf_reader *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p + len;
	r->failed = 0;
}

/* Little-endian load of n bytes, or 0 and 'failed' when fewer remain. */
static uint64_t
get_le(sf_reader *r, int n)
{
	uint64_t	v = 0;
	int			i;

	if (r->failed || (size_t) (r->end - r->p) < (size_t) n)
	{
		r->failed = 1;
		r->p = r->end;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t) r->p[i] << (8 * i);
	r->p += n;
	return v;
}

uint8_t
sf_read_u8(sf_reader *r)
{
	return (uint8_t) get_le(r, 1);
}

uint16_t
sf_read_u16(sf_reader *r)
{
	return (uint16_t) get_le(r, 2);
}

uint32_t
sf_read_u32(sf_reader *r)
{
	return (uint32_t) get_le(r, 4);
}

uint64_t
sf_read_u64(sf_reader *r)
{
	return get_le(r, 8);
}

int32_t
sf_read_i32(sf_reader *r)
{
	return (int32_t) (uint32_t) get_le(r, 4);
}

float
sf_read_f32(sf_reader *r)
{
	uint32_t	bits = (uint32_t) get_le(r, 4);
	float		v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

double
sf_read_f64(sf_reader *r)
{
	uint64_t	bits = get_le(r, 8);
	double		v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

const uint8_t *
sf_read_bytes(sf_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->failed || (size_t) (r->end - r->p) < n)
	{
		r->failed = 1;
		r->p = r->end;
		return NULL;
	}
	p = r->p;
	r->p += n;
	return p;
}

int
sf_reader_has(const sf_reader *r, uint64_t count, size_t size)
{
	uint64_t	left = (uint64_t) (r->end - r->p);

	if (r->failed)
		return 0;
	if (size == 0)
		return 1;
	return count <= left / size;
}

/* Room for n elements of size bytes, else the reader fails at its end. */
static int
reader_room(sf_reader *r, size_t n, size_t size)
{
	if (sf_reader_has(r, n, size))
		return 1;
	r->failed = 1;
	r->p = r->end;
	return 0;
}

/* sf_read_f32s, sf_read_f64s, sf_read_i32s: n elements of size bytes each, one text */
#define SF_READ_ARRAY(name, T, size, read_one) \
void \
name(sf_reader *r, T *out, size_t n) \
{ \
	size_t		i; \
\
	if (reader_room(r, n, size)) \
		for (i = 0; i < n; i++) \
			out[i] = read_one(r); \
}

SF_READ_ARRAY(sf_read_f32s, float, 4, sf_read_f32)
SF_READ_ARRAY(sf_read_f64s, double, 8, sf_read_f64)
SF_READ_ARRAY(sf_read_i32s, int32_t, 4, sf_read_i32)

/* ------------------------------------------------------------ decoding */

sf_status
sf_container_read_header(sf_env *env, const uint8_t *buf, size_t len, sf_container *out)
{
	sf_reader	r;
	uint16_t	current;

	if (len < SF_HEADER_LEN)
		return sf_fail(env, SF_ECORRUPT,
					   "model is %zu bytes, shorter than the %d-byte scfrisk header", len, SF_HEADER_LEN);
	if (memcmp(buf, SF_MAGIC, 4) != 0)
		return sf_fail(env, SF_ECORRUPT, "model does not start with the scfrisk magic \"SCFR\"");
	sf_reader_init(&r, buf + 4, len - 4);
	out->format_version = sf_read_u16(&r);
	out->kind = sf_read_u16(&r);
	out->flags = sf_read_u32(&r);
	out->n_features = sf_read_u32(&r);
	out->payload_len = sf_read_u64(&r);
	out->checksum = sf_read_u32(&r);
	out->n_sections = 0;

	current = sf_kind_current_version(out->kind);
	if (current == 0)
		return sf_fail(env, SF_ECORRUPT, "model kind %u is unknown", (unsigned) out->kind);
	if (out->format_version == 0)
		return sf_fail(env, SF_ECORRUPT, "model format version 0 is invalid");
	if (out->format_version > current)
		return sf_fail(env, SF_EVERSION,
					   "%s model has format version %u, newer than the %u this scfrisk reads",
					   sf_kind_name(out->kind), (unsigned) out->format_version, (unsigned) current);
	if (out->flags & ~SF_VALID_FLAGS)
		return sf_fail(env, SF_ECORRUPT, "model has unknown flag bits 0x%08x",
					   (unsigned) (out->flags & ~SF_VALID_FLAGS));
	return SF_OK;
}

/* A JSON text section must be non-empty and free of NUL bytes; the SQL
 * layer parses it as JSON before showing it. */
static int
text_ok(const sf_section *s)
{
	return s->len > 0 && memchr(s->data, '\0', s->len) == NULL;
}

static sf_status
check_names(sf_env *env, const sf_section *s, uint32_t n_features)
{
	sf_reader	r;
	uint32_t	count;
	uint32_t	i;

	sf_reader_init(&r, s->data, s->len);
	count = sf_read_u32(&r);
	if (!sf_reader_ok(&r) || count != n_features)
		return sf_fail(env, SF_ECORRUPT, "feature names section holds %u names for %u features",
					   (unsigned) count, (unsigned) n_features);
	for (i = 0; i < count; i++)
	{
		uint32_t	len = sf_read_u32(&r);
		const uint8_t *p = sf_read_bytes(&r, len);

		if (p == NULL || memchr(p, '\0', len) != NULL)
			return sf_fail(env, SF_ECORRUPT, "feature name %u is truncated or holds a NUL byte",
						   (unsigned) i + 1);
	}
	if (sf_reader_left(&r) != 0)
		return sf_fail(env, SF_ECORRUPT, "feature names section has trailing bytes");
	return SF_OK;
}

sf_status
sf_container_decode(sf_env *env, const uint8_t *buf, size_t len, sf_container *out)
{
	sf_status	st;
	sf_reader	r;
	uint32_t	crc;
	int			last_tag = -1;
	int			i;

	st = sf_container_read_header(env, buf, len, out);
	if (st != SF_OK)
		return st;
	if (out->payload_len != (uint64_t) (len - SF_HEADER_LEN))
		return sf_fail(env, SF_ECORRUPT,
					   "model header announces a payload of %llu bytes but %zu follow",
					   (unsigned long long) out->payload_len, len - SF_HEADER_LEN);
	crc = SF_CRC32C_FINAL(sf_crc32c(SF_CRC32C_INIT, buf + SF_HEADER_LEN, len - SF_HEADER_LEN));
	if (crc != out->checksum)
		return sf_fail(env, SF_ECORRUPT, "model checksum mismatch (stored %08x, computed %08x)",
					   (unsigned) out->checksum, (unsigned) crc);

	sf_reader_init(&r, buf + SF_HEADER_LEN, len - SF_HEADER_LEN);
	while (sf_reader_left(&r) > 0)
	{
		uint16_t	tag = sf_read_u16(&r);
		uint64_t	slen = sf_read_u64(&r);
		const uint8_t *data;

		if (!sf_reader_ok(&r))
			return sf_fail(env, SF_ECORRUPT, "model section header is truncated");
		if ((int) tag <= last_tag)
			return sf_fail(env, SF_ECORRUPT, "model section tags are not increasing (%u after %d)",
						   (unsigned) tag, last_tag);
		if (slen > sf_reader_left(&r))
			return sf_fail(env, SF_ECORRUPT,
						   "model section %u claims %llu bytes but %zu remain",
						   (unsigned) tag, (unsigned long long) slen, sf_reader_left(&r));
		if (out->n_sections >= SF_MAX_SECTIONS)
			return sf_fail(env, SF_ECORRUPT, "model has more than %d sections", SF_MAX_SECTIONS);
		data = sf_read_bytes(&r, (size_t) slen);
		out->sections[out->n_sections].tag = tag;
		out->sections[out->n_sections].data = data;
		out->sections[out->n_sections].len = slen;
		out->n_sections++;
		last_tag = tag;
	}

	/* The common metadata sections have fixed shapes. */
	for (i = 0; i < out->n_sections; i++)
	{
		const sf_section *s = &out->sections[i];

		switch (s->tag)
		{
			case SF_TAG_PARAMS:
			case SF_TAG_INFO:
				if (!text_ok(s))
					return sf_fail(env, SF_ECORRUPT, "model section %u is not JSON text",
								   (unsigned) s->tag);
				break;
			case SF_TAG_TRAIN_ROWS:
			case SF_TAG_SEED:
				if (s->len != 8)
					return sf_fail(env, SF_ECORRUPT, "model section %u must hold 8 bytes, not %llu",
								   (unsigned) s->tag, (unsigned long long) s->len);
				break;
			case SF_TAG_FEATURE_NAMES:
				st = check_names(env, s, out->n_features);
				if (st != SF_OK)
					return st;
				break;
			case SF_TAG_BACKGROUND:
				st = sf_background_check(env, s->data, s->len, out->n_features);
				if (st != SF_OK)
					return st;
				break;
			case SF_TAG_DRIFT:
				st = sf_drift_check(env, s->data, (size_t) s->len, out->n_features);
				if (st != SF_OK)
					return st;
				break;
			case SF_TAG_CALIBRATION:
				st = sf_calib_check(env, s->data, (size_t) s->len);
				if (st != SF_OK)
					return st;
				break;
			default:
				if (s->tag < SF_TAG_BODY)
					return sf_fail(env, SF_ECORRUPT, "model section tag %u is unknown",
								   (unsigned) s->tag);
				break;
		}
	}
	return SF_OK;
}

const sf_section *
sf_container_find(const sf_container *c, uint16_t tag)
{
	int			i;

	for (i = 0; i < c->n_sections; i++)
		if (c->sections[i].tag == tag)
			return &c->sections[i];
	return NULL;
}

sf_status
sf_container_decode_kind(sf_env *env, const uint8_t *buf, size_t len, uint16_t kind,
						 sf_container *out)
{
	sf_container hdr;
	sf_status	st;

	/* Check the kind on the header first: a model of another kind is a
	 * usage error, reported as such even if its payload were damaged. */
	st = sf_container_read_header(env, buf, len, &hdr);
	if (st == SF_OK && hdr.kind != kind)
		return sf_fail(env, SF_EKIND, "expected a model of kind %s but got one of kind %s",
					   sf_kind_name(kind) ? sf_kind_name(kind) : "?", sf_kind_name(hdr.kind));
	if (st != SF_OK)
		return st;
	return sf_container_decode(env, buf, len, out);
}

sf_status
sf_container_decode_width(sf_env *env, const uint8_t *buf, size_t len, uint16_t kind,
						  uint32_t max_features, sf_container *out)
{
	sf_status	st;

	if ((st = sf_container_decode_kind(env, buf, len, kind, out)) != SF_OK)
		return st;
	if (out->n_features == 0 || out->n_features > max_features)
		return sf_corrupt(env, kind, "input width out of range");
	return SF_OK;
}

sf_status
sf_container_decode_tags(sf_env *env, const uint8_t *buf, size_t len, uint16_t kind,
						 uint16_t max_tag, sf_container *out)
{
	sf_status	st;
	int			i;

	if ((st = sf_container_decode_kind(env, buf, len, kind, out)) != SF_OK)
		return st;
	for (i = 0; i < out->n_sections; i++)
		if (out->sections[i].tag > max_tag)
			return sf_fail(env, SF_ECORRUPT, "%s model has unknown section tag %u",
						   sf_kind_name(kind) ? sf_kind_name(kind) : "?", (unsigned) out->sections[i].tag);
	return SF_OK;
}

sf_status
sf_corrupt(sf_env *env, uint16_t kind, const char *what)
{
	return sf_fail(env, SF_ECORRUPT, "corrupted %s model: %s",
				   sf_kind_name(kind) ? sf_kind_name(kind) : "?", what);
}

int
sf_container_feature_name(const sf_container *c, uint32_t i, const char **name, uint32_t *len)
{
	const sf_section *s = sf_container_find(c, SF_TAG_FEATURE_NAMES);
	sf_reader	r;
	uint32_t	count;
	uint32_t	k;

	if (s == NULL)
		return 0;
	sf_reader_init(&r, s->data, s->len);
	count = sf_read_u32(&r);
	if (i >= count)
		return 0;
	for (k = 0; k <= i; k++)
	{
		uint32_t	l = sf_read_u32(&r);
		const uint8_t *p = sf_read_bytes(&r, l);

		if (p == NULL)
			return 0;
		if (k == i)
		{
			*name = (const char *) p;
			*len = l;
			return 1;
		}
	}
	return 0;
}
