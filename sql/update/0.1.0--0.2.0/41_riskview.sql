-- scfrisk update script 0.1.0 -> 0.2.0, part 41: round_cents for the money
-- columns of the BI views (issue 19, item 4).

-- Money columns of the BI views (issue 19): round(amount::numeric, 2) without
-- the decimal text float8 -> numeric goes through (src/risk/cents.c).
CREATE FUNCTION scfrisk.round_cents(amount float8)
RETURNS numeric
AS 'MODULE_PATHNAME', 'round_cents'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scfrisk.round_cents(float8) IS
'an amount as numeric rounded to cents: the same value as round(amount::numeric, 2), computed from the float8''s binary value without printing it (the money columns of the demo views)';
