/*
 * test_container.c
 *	  Unit tests of the model container: CRC-32C against its published check
 *	  value, writer/reader round trips, deterministic encoding, and every
 *	  rejection the decoder promises (docs/format.md).
 */
#include <string.h>

#include "scfrisk/sf_container.h"
#include "sf_test.h"

static sf_env env;

/* A small valid container of kind gbt with every common section. */
static void
make_model(sf_buf *b)
{
	static const char *const names[] = {"age", "amount", "duration"};

	sf_buf_init(b, &env);
	sf_container_begin(b, SF_KIND_GBT, 3);
	sf_section_put_text(b, SF_TAG_PARAMS, "{\"eta\": 0.3}", 12);
	sf_section_put_names(b, names, 3);
	sf_section_put_u64(b, SF_TAG_TRAIN_ROWS, 1000);
	sf_section_put_u64(b, SF_TAG_SEED, 42);
	sf_section_put_text(b, SF_TAG_INFO, "{}", 2);
	{
		size_t		mark = sf_section_begin(b, SF_TAG_BODY);

		sf_buf_put_f64(b, 1.5);
		sf_buf_put_i32(b, -7);
		sf_section_end(b, mark);
	}
	sf_container_finish(b);
}

/* Recompute the checksum after a deliberate edit of the payload. */
static void
reseal(uint8_t *p, size_t len)
{
	uint32_t	crc = SF_CRC32C_FINAL(sf_crc32c(SF_CRC32C_INIT, p + SF_HEADER_LEN, len - SF_HEADER_LEN));
	int			i;

	for (i = 0; i < 4; i++)
		p[24 + i] = (uint8_t) (crc >> (8 * i));
}

SF_TEST(test_crc32c)
{
	/* The standard check value of CRC-32C over "123456789" (RFC 3720). */
	uint32_t	c = SF_CRC32C_FINAL(sf_crc32c(SF_CRC32C_INIT, "123456789", 9));

	SF_OK(c == 0xE3069283u, "crc32c(\"123456789\") = %08x", (unsigned) c);
	/* incremental equals one-shot */
	c = sf_crc32c(SF_CRC32C_INIT, "1234", 4);
	c = SF_CRC32C_FINAL(sf_crc32c(c, "56789", 5));
	SF_OK(c == 0xE3069283u, "crc32c in two pieces");
}

SF_TEST(test_round_trip)
{
	sf_buf		b,
				b2;
	sf_container c;
	const sf_section *s;
	sf_reader	r;
	const char *name;
	uint32_t	len;

	make_model(&b);
	SF_OK(sf_buf_status(&b) == SF_OK, "writer succeeded");
	SF_OK(memcmp(b.data, "SCFR", 4) == 0, "magic first");
	SF_OK(sf_container_decode(&env, b.data, b.len, &c) == SF_OK, "decodes: %s", env.msg ? env.msg : "");
	SF_OK(c.kind == SF_KIND_GBT && c.n_features == 3 && c.format_version == 1, "header fields");
	SF_OK(c.n_sections == 6, "six sections (%d)", c.n_sections);
	s = sf_container_find(&c, SF_TAG_BODY);
	SF_OK(s != NULL && s->len == 12, "body section found");
	sf_reader_init(&r, s->data, s->len);
	SF_OK(sf_read_f64(&r) == 1.5 && sf_read_i32(&r) == -7 && sf_reader_ok(&r) && sf_reader_left(&r) == 0,
		  "body values read back");
	SF_OK(sf_container_feature_name(&c, 1, &name, &len) && len == 6 && memcmp(name, "amount", 6) == 0,
		  "feature name 2");
	SF_OK(!sf_container_feature_name(&c, 3, &name, &len), "no feature name 4");

	/* deterministic: same content, same bytes */
	make_model(&b2);
	SF_OK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0, "encoding is deterministic");
	sf_buf_free(&b);
	sf_buf_free(&b2);
}

SF_TEST(test_little_endian)
{
	sf_buf		b;

	sf_buf_init(&b, &env);
	sf_buf_put_u32(&b, 0x01020304u);
	sf_buf_put_u16(&b, 0xA1B2u);
	SF_OK(b.len == 6 && b.data[0] == 4 && b.data[3] == 1 && b.data[4] == 0xB2, "explicit little-endian");
	sf_buf_free(&b);
}

SF_TEST(test_rejections)
{
	sf_buf		b;
	sf_container c;
	uint8_t    *p;
	size_t		n;
	sf_status	st;
	size_t		cut;

	make_model(&b);
	n = b.len;
	p = malloc(n + 16);

	st = sf_container_decode(&env, b.data, 0, &c);
	SF_OK(st == SF_ECORRUPT, "empty: %s", env.msg);
	for (cut = 1; cut < n; cut++)
	{
		st = sf_container_decode(&env, b.data, cut, &c);
		if (st != SF_ECORRUPT)
			break;
	}
	SF_OK(cut == n, "every truncation is SF_ECORRUPT (first accepted at %zu of %zu)", cut, n);

	memcpy(p, b.data, n);
	p[0] = 'X';
	SF_OK(sf_container_decode(&env, p, n, &c) == SF_ECORRUPT && strstr(env.msg, "magic"), "wrong magic: %s", env.msg);

	memcpy(p, b.data, n);
	p[6] = 99;
	SF_OK(sf_container_decode(&env, p, n, &c) == SF_ECORRUPT && strstr(env.msg, "kind 99"), "unknown kind: %s", env.msg);

	memcpy(p, b.data, n);
	p[8] = 1;
	SF_OK(sf_container_decode(&env, p, n, &c) == SF_ECORRUPT && strstr(env.msg, "flag"), "unknown flag: %s", env.msg);

	memcpy(p, b.data, n);
	p[4] = 9;
	SF_OK(sf_container_decode(&env, p, n, &c) == SF_EVERSION, "future version: %s", env.msg);

	memcpy(p, b.data, n);
	p[4] = 0;
	SF_OK(sf_container_decode(&env, p, n, &c) == SF_ECORRUPT, "version 0: %s", env.msg);

	memcpy(p, b.data, n);
	p[n - 1] ^= 0x40;
	SF_OK(sf_container_decode(&env, p, n, &c) == SF_ECORRUPT && strstr(env.msg, "checksum"), "checksum: %s", env.msg);

	memcpy(p, b.data, n);
	p[16] += 5;					/* payload_len past the end */
	SF_OK(sf_container_decode(&env, p, n, &c) == SF_ECORRUPT && strstr(env.msg, "payload"), "payload length: %s", env.msg);

	memcpy(p, b.data, n);
	memset(p + n, 0, 16);		/* trailing bytes after the payload */
	SF_OK(sf_container_decode(&env, p, n + 16, &c) == SF_ECORRUPT, "trailing bytes: %s", env.msg);

	/* a section length past the end, checksum made right again */
	memcpy(p, b.data, n);
	p[SF_HEADER_LEN + 2] = 0xFF;
	reseal(p, n);
	SF_OK(sf_container_decode(&env, p, n, &c) == SF_ECORRUPT && strstr(env.msg, "claims"), "section length: %s", env.msg);

	/* tags out of order: swap the first tag to a high value */
	memcpy(p, b.data, n);
	p[SF_HEADER_LEN] = 200;
	reseal(p, n);
	SF_OK(sf_container_decode(&env, p, n, &c) == SF_ECORRUPT && strstr(env.msg, "increasing"), "tag order: %s", env.msg);

	/* a NUL inside the params JSON */
	memcpy(p, b.data, n);
	p[SF_HEADER_LEN + 10 + 3] = 0;
	reseal(p, n);
	SF_OK(sf_container_decode(&env, p, n, &c) == SF_ECORRUPT && strstr(env.msg, "JSON"), "NUL in JSON: %s", env.msg);

	/* wrong kind for the function */
	SF_OK(sf_container_decode_kind(&env, b.data, n, SF_KIND_MLP, &c) == SF_EKIND &&
		  strstr(env.msg, "mlp") && strstr(env.msg, "gbt"), "wrong kind names both: %s", env.msg);
	SF_OK(sf_container_decode_kind(&env, b.data, n, SF_KIND_GBT, &c) == SF_OK, "right kind decodes");

	free(p);
	sf_buf_free(&b);
}

SF_TEST(test_reader_bounds)
{
	uint8_t		data[3] = {1, 2, 3};
	sf_reader	r;
	double		d[4];

	sf_reader_init(&r, data, 3);
	SF_OK(sf_read_u16(&r) == 0x0201 && sf_reader_ok(&r), "u16 read");
	SF_OK(sf_read_u32(&r) == 0 && !sf_reader_ok(&r) && sf_reader_left(&r) == 0, "read past end fails");
	sf_reader_init(&r, data, 3);
	SF_OK(!sf_reader_has(&r, (uint64_t) 1 << 62, 8), "huge count refused without overflow");
	sf_read_f64s(&r, d, 4);
	SF_OK(!sf_reader_ok(&r), "array read past end fails");
}

SF_TEST(test_kind_names)
{
	SF_OK(strcmp(sf_kind_name(SF_KIND_QRGMM_LINEAR), "qrgmm_linear") == 0, "kind name");
	SF_OK(sf_kind_from_name("xgb_mlp") == SF_KIND_XGB_MLP, "kind from name");
	SF_OK(sf_kind_name(0) == NULL && sf_kind_from_name("nope") == 0, "unknown kinds");
}

/* RFC 8259's escapes: quote, backslash and control characters; other bytes (UTF-8) as they are. */
SF_TEST(test_json_string)
{
	const char	expect[] = "\"a\\\"b\\\\c\\u000a\\u001f\xc3\xa9\"";
	sf_buf		b;

	sf_buf_init(&b, &env);
	sf_buf_put_json_string(&b, "a\"b\\c\n\x1f\xc3\xa9");
	SF_OK(b.len == strlen(expect) && memcmp(b.data, expect, b.len) == 0, "escaped: %.*s", (int) b.len,
		  (const char *) b.data);
	sf_buf_free(&b);
}

/* A decoder that knows body tags up to max_tag refuses a later one, naming kind and tag. */
SF_TEST(test_decode_tags)
{
	sf_buf		b;
	sf_container c;

	make_model(&b);
	SF_OK(sf_container_decode_tags(&env, b.data, b.len, SF_KIND_GBT, SF_TAG_BODY, &c) == SF_OK,
		  "body tag %d within the known tags", SF_TAG_BODY);
	SF_OK(sf_container_decode_tags(&env, b.data, b.len, SF_KIND_GBT, SF_TAG_BODY - 1, &c) == SF_ECORRUPT &&
		  strcmp(env.msg, "gbt model has unknown section tag 16") == 0, "a later tag: %s", env.msg);
	SF_OK(sf_container_decode_tags(&env, b.data, b.len, SF_KIND_MLP, SF_TAG_BODY, &c) == SF_EKIND,
		  "another kind is refused first: %s", env.msg);
	sf_buf_free(&b);
}

int
main(void)
{
	sf_env_init_malloc(&env);
	SF_RUN(test_crc32c);
	SF_RUN(test_round_trip);
	SF_RUN(test_little_endian);
	SF_RUN(test_rejections);
	SF_RUN(test_reader_bounds);
	SF_RUN(test_kind_names);
	SF_RUN(test_json_string);
	SF_RUN(test_decode_tags);
	return sf_test_done();
}
