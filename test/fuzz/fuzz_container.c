/*
 * fuzz_container.c
 *	  libFuzzer target for the container decoder: any byte string must either
 *	  decode, with every section inside the input, or be refused with a
 *	  status and a message; and a decoded container re-encoded from its
 *	  sections must give back the same bytes (the encoding is canonical).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_container.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sf_env		env;
	sf_container c;
	sf_status	st;
	sf_buf		b;
	int			i;

	sf_env_init_malloc(&env);
	st = sf_container_decode(&env, data, size, &c);
	if (st != SF_OK)
	{
		if (env.msg == NULL || (st != SF_ECORRUPT && st != SF_EVERSION))
			abort();
		return 0;
	}
	for (i = 0; i < c.n_sections; i++)
		if (c.sections[i].data < data || c.sections[i].data + c.sections[i].len > data + size)
			abort();

	/* re-encode: same bytes */
	sf_buf_init(&b, &env);
	sf_container_begin(&b, c.kind, c.n_features);
	for (i = 0; i < c.n_sections; i++)
		sf_section_put_text(&b, c.sections[i].tag, (const char *) c.sections[i].data,
							(size_t) c.sections[i].len);
	if (sf_container_finish(&b) != SF_OK)
		abort();
	/* format_version: the writer always emits the current one */
	if (b.len != size || memcmp(b.data + 6, data + 6, size - 6) != 0)
		abort();
	sf_buf_free(&b);
	return 0;
}
