/*
 * sections.c
 *	  Setting one section of finished model bytes: how the governance
 *	  sections (drift, calibration) join a model after its kind's encoder
 *	  wrote it, without touching the kind's code.
 *
 * The model is decoded first (checksum, section table, common sections),
 * so only valid bytes are rewritten; the header is copied with its kind,
 * version and width, the sections are written back in tag order with the
 * new one replacing a section of the same tag or inserted before the first
 * larger tag, and sf_container_finish recomputes the payload length and the
 * CRC-32C.
 */
#include <string.h>

#include "scfrisk/sf_governance.h"

sf_status
sf_container_set_section(sf_env *env, const uint8_t *model, size_t model_len, uint16_t tag,
						 const uint8_t *data, size_t len, sf_buf *b)
{
	sf_container c;
	sf_status	st;
	int			i,
				placed = 0;

	if ((st = sf_container_decode(env, model, model_len, &c)) != SF_OK)
		return st;
	if (c.n_sections >= SF_MAX_SECTIONS && sf_container_find(&c, tag) == NULL)
		return sf_fail(env, SF_ELIMIT, "model has %d sections already", SF_MAX_SECTIONS);
	sf_buf_put_bytes(b, model, SF_HEADER_LEN);
	for (i = 0; i <= c.n_sections; i++)
	{
		const sf_section *s = i < c.n_sections ? &c.sections[i] : NULL;

		if (!placed && (s == NULL || s->tag >= tag))
		{
			size_t		mark = sf_section_begin(b, tag);

			sf_buf_put_bytes(b, data, len);
			sf_section_end(b, mark);
			placed = 1;
			if (s != NULL && s->tag == tag)
				continue;		/* replaced */
		}
		if (s != NULL)
		{
			size_t		mark = sf_section_begin(b, s->tag);

			sf_buf_put_bytes(b, s->data, (size_t) s->len);
			sf_section_end(b, mark);
		}
	}
	return sf_container_finish(b);
}
