-- scfrisk install script, part 90: scale-out over PostgreSQL's own sharding
-- (declarative partitioning with postgres_fdw foreign partitions), see
-- docs/scale-out.md.

-- The library's version, IMMUTABLE on purpose: postgres_fdw ships only
-- immutable functions to a shard, and this is how a coordinator asks each
-- shard which scfrisk it runs (constant for an installed library; a session
-- that outlives a library upgrade may keep the old value in cached plans).
CREATE FUNCTION scfrisk.version()
RETURNS text
AS 'MODULE_PATHNAME', 'scfrisk_version'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.version() IS
'version of the scfrisk library';

-- The same with an argument it ignores: a call without one is folded to a
-- constant on the coordinator before postgres_fdw sees it, while a call on a
-- column of a foreign table is shipped and runs on the shard.
CREATE FUNCTION scfrisk.version(anyelement)
RETURNS text
AS 'MODULE_PATHNAME', 'scfrisk_version'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.version(anyelement) IS
'version of the scfrisk library (the argument is ignored): min(scfrisk.version(col)) over a foreign table is computed on its shard';

-- Check a sharded table before training or scoring over it: every leaf
-- partition is a foreign table on a server that lists scfrisk in its
-- "extensions" option, every shard answers, runs this scfrisk version and
-- (with features named) holds feature arrays of one width.  One pushed-down
-- aggregate per partition; errors name the partition and its server.
CREATE FUNCTION scfrisk.check_shards(relation regclass, features text DEFAULT NULL)
RETURNS TABLE(partition regclass, server name, scfrisk_version text, n_rows bigint,
			  width_min int, width_max int)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	part record;
	local_version text := scfrisk.version();
	state text;
	msg text;
	widths int[] := '{}';
BEGIN
	IF (SELECT c.relkind FROM pg_class c WHERE c.oid = relation) IS DISTINCT FROM 'p' THEN
		RAISE EXCEPTION 'check_shards: % is not a partitioned table', relation
			USING ERRCODE = '22023',
				  HINT = 'Shard a table with PARTITION BY and foreign-table partitions (docs/scale-out.md).';
	END IF;
	IF features IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM pg_attribute a
		WHERE a.attrelid = relation AND a.attname = features AND NOT a.attisdropped
		  AND a.atttypid = 'float8[]'::regtype) THEN
		RAISE EXCEPTION 'check_shards: % has no float8[] column "%"', relation, features
			USING ERRCODE = '42703';
	END IF;
	-- the version is asked as scfrisk.version(count(*)): postgres_fdw ships the
	-- call with the count (see scfrisk.version(anyelement)), so no row travels
	-- (min(scfrisk.version(col)) is computed here, on every row fetched)
	FOR part IN
		SELECT t.relid::regclass AS rel, c.relkind, s.srvname, s.srvoptions
		FROM pg_partition_tree(relation) t
		JOIN pg_class c ON c.oid = t.relid
		LEFT JOIN pg_foreign_table ft ON ft.ftrelid = t.relid
		LEFT JOIN pg_foreign_server s ON s.oid = ft.ftserver
		WHERE t.isleaf
		ORDER BY t.relid::regclass::text
	LOOP
		IF part.relkind <> 'f' THEN
			RAISE EXCEPTION 'check_shards: partition % of % is not a foreign table', part.rel, relation
				USING ERRCODE = '42809',
					  HINT = 'Every partition lives on a shard: CREATE FOREIGN TABLE ... PARTITION OF ... SERVER ...';
		END IF;
		IF NOT EXISTS (
			SELECT 1 FROM pg_options_to_table(part.srvoptions) o
			WHERE o.option_name = 'extensions'
			  AND 'scfrisk' = ANY (string_to_array(replace(o.option_value, ' ', ''), ','))) THEN
			RAISE EXCEPTION 'check_shards: server % of partition % does not list scfrisk in its "extensions" option',
				part.srvname, part.rel
				USING ERRCODE = '22023',
					  DETAIL = 'Without it postgres_fdw never ships scfrisk calls: every row would travel to this server.',
					  HINT = format('ALTER SERVER %I OPTIONS (ADD extensions ''scfrisk'');', part.srvname);
		END IF;
		partition := part.rel;
		server := part.srvname;
		BEGIN
			IF features IS NULL THEN
				EXECUTE format('SELECT scfrisk.version(count(*)), count(*) FROM %s', part.rel)
					INTO scfrisk_version, n_rows;
				width_min := NULL;
				width_max := NULL;
			ELSE
				EXECUTE format('SELECT scfrisk.version(count(*)), count(*), min(array_length(%1$I, 1)), '
							   'max(array_length(%1$I, 1)) FROM %2$s', features, part.rel)
					INTO scfrisk_version, n_rows, width_min, width_max;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
			IF state = '3F000' THEN
				RAISE EXCEPTION 'check_shards: scfrisk is not installed on server % (partition %)', part.srvname, part.rel
					USING ERRCODE = '42883', DETAIL = msg,
						  HINT = format('CREATE EXTENSION scfrisk VERSION %L in the database that server %I points to.',
										local_version, part.srvname);
			ELSIF state = '42883' THEN
				RAISE EXCEPTION 'check_shards: server % (partition %) runs an scfrisk older than 0.2.0, this server %',
					part.srvname, part.rel, local_version
					USING ERRCODE = '0A000', DETAIL = msg,
						  HINT = 'Install the same scfrisk version on every shard (ALTER EXTENSION scfrisk UPDATE).';
			END IF;
			RAISE EXCEPTION 'check_shards: server % (partition %) failed: %', part.srvname, part.rel, msg
				USING ERRCODE = state;
		END;
		-- a shard without rows answers no scfrisk call, so it has no version to compare
		IF scfrisk_version IS DISTINCT FROM local_version THEN
			RAISE EXCEPTION 'check_shards: server % (partition %) runs scfrisk %, this server %',
				part.srvname, part.rel, scfrisk_version, local_version
				USING ERRCODE = '0A000',
					  DETAIL = 'Models and aggregates must be the same on every shard for results to agree.',
					  HINT = 'Install the same scfrisk version on every shard (ALTER EXTENSION scfrisk UPDATE).';
		END IF;
		IF width_min IS NOT NULL THEN
			widths := widths || width_min || width_max;
		END IF;
		RETURN NEXT;
	END LOOP;
	IF features IS NOT NULL AND cardinality(widths) > 0
	   AND (SELECT min(w) <> max(w) FROM unnest(widths) w) THEN
		RAISE EXCEPTION 'check_shards: the feature arrays "%" of % differ in width between or within shards (% to %)',
			features, relation, (SELECT min(w) FROM unnest(widths) w), (SELECT max(w) FROM unnest(widths) w)
			USING ERRCODE = '22000',
				  HINT = 'Train on rows of one width: see scfrisk.check_shards(relation, features) for the widths of each partition.';
	END IF;
END
$$;
COMMENT ON FUNCTION scfrisk.check_shards(regclass, text) IS
'check a table sharded over postgres_fdw foreign partitions before training or scoring over it: foreign partitions, servers listing scfrisk in "extensions", every shard reachable and running this scfrisk version, one feature width; a row per partition';
