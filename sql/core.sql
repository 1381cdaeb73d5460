-- scfrisk core: the model container and model_info.
-- Containers are built here byte by byte with a CRC-32C written in PL/pgSQL,
-- an implementation independent of the C one, so a round trip through
-- model_info checks the format as docs/format.md documents it.

CREATE FUNCTION pg_temp.crc32c(b bytea) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	c bigint := 4294967295;
BEGIN
	FOR i IN 0 .. length(b) - 1 LOOP
		c := c # get_byte(b, i);
		FOR k IN 1 .. 8 LOOP
			IF (c & 1) = 1 THEN c := (c >> 1) # 2197175160; ELSE c := c >> 1; END IF;
		END LOOP;
	END LOOP;
	RETURN c # 4294967295;
END $$;

-- little-endian encoding of v in n bytes
CREATE FUNCTION pg_temp.le(v numeric, n int) RETURNS bytea LANGUAGE sql AS $$
	SELECT string_agg(set_byte('\x00'::bytea, 0, (floor(v / 256::numeric ^ i) % 256)::int), ''::bytea ORDER BY i)
	FROM generate_series(0, n - 1) AS i
$$;

CREATE FUNCTION pg_temp.sec(tag int, data bytea) RETURNS bytea LANGUAGE sql AS $$
	SELECT pg_temp.le(tag, 2) || pg_temp.le(length(data), 8) || data
$$;

CREATE FUNCTION pg_temp.model(version int, kind int, flags bigint, n_features int, payload bytea,
                              payload_len numeric DEFAULT NULL, checksum bigint DEFAULT NULL)
RETURNS bytea LANGUAGE sql AS $$
	SELECT convert_to('SCFR', 'UTF8') || pg_temp.le(version, 2) || pg_temp.le(kind, 2)
		|| pg_temp.le(flags, 4) || pg_temp.le(n_features, 4)
		|| pg_temp.le(coalesce(payload_len, length(payload)), 8)
		|| pg_temp.le(coalesce(checksum, pg_temp.crc32c(payload)), 4) || payload
$$;

CREATE FUNCTION pg_temp.names(variadic n text[]) RETURNS bytea LANGUAGE sql AS $$
	SELECT pg_temp.le(cardinality(n), 4)
		|| coalesce(string_agg(pg_temp.le(length(convert_to(x, 'UTF8')), 4) || convert_to(x, 'UTF8'), ''::bytea ORDER BY o), '')
	FROM unnest(n) WITH ORDINALITY AS t(x, o)
$$;

-- error text with its SQLSTATE, for the rejections below
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TEMP TABLE m AS
SELECT pg_temp.model(1, 1, 0, 2,
	pg_temp.sec(1, convert_to('{"eta": 0.3, "max_depth": 4}', 'UTF8'))
	|| pg_temp.sec(2, pg_temp.names('duration', 'montant été'))
	|| pg_temp.sec(3, pg_temp.le(1000, 8))
	|| pg_temp.sec(4, pg_temp.le(42, 8))
	|| pg_temp.sec(5, convert_to('{"rounds": 12}', 'UTF8'))
	|| pg_temp.sec(16, '\x0102030405'::bytea)) AS b;

-- the independent CRC agrees with the published check value
SELECT to_hex(pg_temp.crc32c(convert_to('123456789', 'UTF8'))) AS crc32c_check;

-- round trip: every header field and metadata section comes back
-- (container_info: the hand-made body below cannot be scored)
SELECT jsonb_pretty(scfrisk.container_info(b)) FROM m;
SELECT scfrisk.model_kind(b) FROM m;

-- every kind name
SELECT k, scfrisk.model_kind(pg_temp.model(1, k, 0, 0, ''::bytea)) FROM generate_series(1, 6) AS k;

-- a container without optional sections
SELECT scfrisk.container_info(pg_temp.model(1, 5, 0, 3, ''::bytea));

-- model_info decodes the whole model: a container whose body cannot be
-- scored is data corruption (issue 13), whatever its header says
SELECT pg_temp.err($$SELECT scfrisk.model_info(b) FROM m$$) AS body_not_scorable;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 5, 0, 3, ''::bytea))$$) AS no_body;

-- rejections, each with its SQLSTATE
SELECT pg_temp.err($$SELECT scfrisk.model_info(''::bytea)$$) AS empty;
SELECT pg_temp.err($$SELECT scfrisk.model_info(substr(b, 1, 20)) FROM m$$) AS truncated_header;
SELECT pg_temp.err($$SELECT scfrisk.model_info(substr(b, 1, length(b) - 1)) FROM m$$) AS truncated_payload;
SELECT pg_temp.err($$SELECT scfrisk.model_info(overlay(b placing 'XCFR'::bytea from 1)) FROM m$$) AS wrong_magic;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 99, 0, 0, ''::bytea))$$) AS unknown_kind;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 1, 4, 0, ''::bytea))$$) AS unknown_flag;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(9, 1, 0, 0, ''::bytea))$$) AS future_version;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(0, 1, 0, 0, ''::bytea))$$) AS version_zero;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 1, 0, 0, pg_temp.sec(16, '\x00'), checksum => 12345))$$) AS bad_checksum;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 1, 0, 0, pg_temp.sec(16, '\x00'), payload_len => 1000))$$) AS payload_past_end;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 1, 0, 0, pg_temp.le(16, 2) || pg_temp.le(50, 8) || '\x00'::bytea))$$) AS section_past_end;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 1, 0, 0, pg_temp.sec(4, pg_temp.le(1, 8)) || pg_temp.sec(3, pg_temp.le(1, 8))))$$) AS tags_out_of_order;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 1, 0, 0, pg_temp.sec(7, '\x00')))$$) AS unknown_common_tag;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 1, 0, 0, pg_temp.sec(1, convert_to('{"eta": ', 'UTF8'))))$$) AS params_not_json;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 1, 0, 0, pg_temp.sec(5, '\x7bff7d'::bytea)))$$) AS info_not_utf8;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 1, 0, 3, pg_temp.sec(2, pg_temp.names('a', 'b'))))$$) AS names_count;
SELECT pg_temp.err($$SELECT scfrisk.model_info(pg_temp.model(1, 1, 0, 1, pg_temp.sec(3, pg_temp.le(1, 4))))$$) AS rows_wrong_size;
SELECT pg_temp.err($$SELECT scfrisk.model_kind('\x534346'::bytea)$$) AS kind_of_truncated;

-- STRICT: NULL in, NULL out
SELECT scfrisk.model_info(NULL) IS NULL AS null_model;
SELECT scfrisk.container_info(NULL) IS NULL AS null_container;

-- GUCs are reserved under scfrisk.
SHOW scfrisk.threads;
SHOW scfrisk.max_memory_mb;
SELECT pg_temp.err($$SET scfrisk.no_such_setting = 1$$) AS reserved_prefix;
SELECT pg_temp.err($$SET scfrisk.threads = 0$$) AS threads_range;
SELECT (scfrisk.build_info() ->> 'version') = (SELECT extversion FROM pg_extension WHERE extname = 'scfrisk') AS build_version_matches;
