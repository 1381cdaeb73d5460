/*
 * test_params.c
 *	  Unit tests of the typed hyperparameter tables: defaults, every setter's
 *	  range and type checks with messages naming the key, nested objects,
 *	  lists, the validate hook, and canonical JSON.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "scfrisk/sf_params.h"
#include "sf_test.h"

typedef struct inner_params
{
	int			depth;
} inner_params;

typedef struct demo_params
{
	double		eta;
	int			rounds;
	int64_t		seed;
	int			verbose;
	int			objective;
	sf_int_list hidden;
	sf_str_list names;
	inner_params inner;
} demo_params;

static const char *const objectives[] = {"binary:logistic", "reg:squarederror", NULL};

static const sf_param_spec inner_specs[] = {
	{"depth", SF_PT_INT, offsetof(inner_params, depth), 6, 0, 20, 0, 0, NULL, NULL, "tree depth"},
};
static const sf_param_table inner_table = {"inner", inner_specs, 1, NULL};

static sf_status
demo_validate(sf_env *env, const void *obj)
{
	const demo_params *p = obj;

	if (p->verbose && p->rounds > 500)
		return sf_fail(env, SF_EINVAL, "\"verbose\" needs \"rounds\" of at most 500");
	return SF_OK;
}

static const sf_param_spec demo_specs[] = {
	{"eta", SF_PT_DOUBLE, offsetof(demo_params, eta), 0.3, 0, 1, 1, 0, NULL, NULL, "learning rate"},
	{"rounds", SF_PT_INT, offsetof(demo_params, rounds), 100, 1, 100000, 0, 0, NULL, NULL, "rounds"},
	{"seed", SF_PT_INT64, offsetof(demo_params, seed), 0, 0, 9.2e18, 0, 0, NULL, NULL, "seed"},
	{"verbose", SF_PT_BOOL, offsetof(demo_params, verbose), 0, 0, 1, 0, 0, NULL, NULL, "notices"},
	{"objective", SF_PT_ENUM, offsetof(demo_params, objective), 0, 0, 0, 0, 0, objectives, NULL, "loss"},
	{"hidden", SF_PT_INT_LIST, offsetof(demo_params, hidden), 0, 1, 4096, 0, 0, NULL, NULL, "layers"},
	{"names", SF_PT_STR_LIST, offsetof(demo_params, names), 0, 0, INFINITY, 0, 0, NULL, NULL, "names"},
	{"inner", SF_PT_OBJECT, offsetof(demo_params, inner), 0, 0, 0, 0, 0, NULL, &inner_table, "nested"},
};
static const sf_param_table demo_table = {"demo_train", demo_specs, 8, demo_validate};

static sf_env env;

SF_TEST(test_defaults_and_json)
{
	demo_params p;
	sf_buf		b;

	sf_params_defaults(&demo_table, &p);
	SF_OK(p.eta == 0.3 && p.rounds == 100 && p.objective == 0 && p.inner.depth == 6 &&
		  p.hidden.n == 0 && p.names.n == 0, "defaults applied, nested too");
	sf_buf_init(&b, &env);
	sf_params_to_json(&demo_table, &p, &b);
	sf_buf_put_u8(&b, 0);
	SF_OK(strcmp((char *) b.data,
				 "{\"eta\": 0.3, \"rounds\": 100, \"seed\": 0, \"verbose\": false, "
				 "\"objective\": \"binary:logistic\", \"hidden\": [], \"names\": [], "
				 "\"inner\": {\"depth\": 6}}") == 0, "canonical JSON: %s", (char *) b.data);
	sf_buf_free(&b);
}

SF_TEST(test_setters)
{
	demo_params p;
	const sf_param_spec *s;
	double		list[3] = {64, 32, 8};
	const char *names[2] = {"a\"b", "c"};
	size_t		lens[2] = {3, 1};
	sf_buf		b;

	sf_params_defaults(&demo_table, &p);
	s = sf_params_find(&demo_table, "eta", 3);
	SF_OK(s != NULL && sf_params_set_number(&env, s, &p, "eta", 0.1) == SF_OK && p.eta == 0.1, "set eta");
	SF_OK(sf_params_set_number(&env, s, &p, "eta", 0) == SF_EINVAL && strstr(env.msg, "\"eta\"") &&
		  strstr(env.msg, "(0, 1]"), "eta = 0 refused (open bound): %s", env.msg);
	SF_OK(env.hint && strstr(env.hint, "\"eta\" (learning rate) in (0, 1]") &&
		  strstr(env.hint, "default 0.3."), "its hint names the doc, the range and the default: %s",
		  env.hint ? env.hint : "none");
	SF_OK(sf_params_set_number(&env, s, &p, "eta", NAN) == SF_EINVAL, "NaN refused");
	SF_OK(sf_params_set_bool(&env, s, &p, "eta", 1) == SF_EINVAL && strstr(env.msg, "number"),
		  "bool for a number refused: %s", env.msg);

	s = sf_params_find(&demo_table, "rounds", 6);
	SF_OK(sf_params_set_number(&env, s, &p, "rounds", 2.5) == SF_EINVAL && strstr(env.msg, "whole"),
		  "fraction for an int refused: %s", env.msg);
	SF_OK(sf_params_set_number(&env, s, &p, "rounds", 1e9) == SF_EINVAL, "out of range int refused: %s", env.msg);
	SF_OK(env.hint && strstr(env.hint, "in [1, 100000], or leave it out for its default 100."),
		  "with the range and default in the hint: %s", env.hint ? env.hint : "none");
	SF_OK(sf_params_set_number(&env, s, &p, "rounds", 2.5) == SF_EINVAL && env.hint == NULL,
		  "a wrong type carries no stale hint");

	s = sf_params_find(&demo_table, "seed", 4);
	SF_OK(sf_params_set_int64(&env, s, &p, "seed", 1234567890123LL) == SF_OK && p.seed == 1234567890123LL,
		  "int64 seed kept exactly");
	SF_OK(sf_params_set_int64(&env, s, &p, "seed", -1) == SF_EINVAL, "negative seed refused: %s", env.msg);

	s = sf_params_find(&demo_table, "objective", 9);
	SF_OK(sf_params_set_enum(&env, s, &p, "objective", "reg:squarederror", 16) == SF_OK && p.objective == 1,
		  "enum set");
	SF_OK(sf_params_set_enum(&env, s, &p, "objective", "hinge", 5) == SF_EINVAL &&
		  strstr(env.msg, "\"binary:logistic\""), "unknown enum lists choices: %s", env.msg);
	SF_OK(env.hint && strstr(env.hint, "its default \"binary:logistic\""), "and its hint the default: %s",
		  env.hint ? env.hint : "none");

	s = sf_params_find(&demo_table, "hidden", 6);
	SF_OK(sf_params_set_int_list(&env, s, &p, "hidden", list, 3) == SF_OK && p.hidden.n == 3 &&
		  p.hidden.v[2] == 8, "int list set");
	list[1] = 0;
	SF_OK(sf_params_set_int_list(&env, s, &p, "hidden", list, 3) == SF_EINVAL &&
		  strstr(env.msg, "element 2"), "list element out of range names it: %s", env.msg);
	SF_OK(env.hint && strstr(env.hint, "Every element of \"hidden\" (layers) must be in [1, 4096]"),
		  "the hint of a list names the element range: %s", env.hint ? env.hint : "none");

	s = sf_params_find(&demo_table, "names", 5);
	SF_OK(sf_params_set_str_list(&env, s, &p, "names", names, lens, 2) == SF_OK && p.names.n == 2 &&
		  strcmp(p.names.v[0], "a\"b") == 0, "string list copied");
	sf_buf_init(&b, &env);
	sf_params_to_json(&demo_table, &p, &b);
	sf_buf_put_u8(&b, 0);
	SF_OK(strstr((char *) b.data, "\"names\": [\"a\\\"b\", \"c\"]") != NULL, "strings escaped in JSON: %s",
		  (char *) b.data);
	sf_buf_free(&b);

	SF_OK(sf_params_find(&demo_table, "etaa", 4) == NULL && sf_params_find(&demo_table, "et", 2) == NULL,
		  "unknown keys not found");

	s = sf_params_find(&inner_table, "depth", 5);
	SF_OK(sf_params_set_number(&env, s, &p.inner, "inner.depth", 50) == SF_EINVAL &&
		  strstr(env.msg, "\"inner.depth\""), "nested path named: %s", env.msg);

	p.verbose = 1;
	p.rounds = 1000;
	SF_OK(sf_params_validate(&env, &demo_table, &p) == SF_EINVAL && strstr(env.msg, "verbose"),
		  "validate hook runs: %s", env.msg);
	sf_params_free(&env, &demo_table, &p);
	SF_OK(p.names.n == 0 && p.names.v == NULL, "free clears string lists");
}

SF_TEST(test_key_list)
{
	char		buf[256];

	sf_params_key_list(&demo_table, buf, sizeof(buf));
	SF_OK(strcmp(buf, "eta, rounds, seed, verbose, objective, hidden, names, inner") == 0, "key list: %s", buf);
	sf_params_key_list(&demo_table, buf, 10);
	SF_OK(strlen(buf) < 10, "key list truncates safely");
}

/* A transient entry (a run-time switch) is accepted but never written to the model. */
static const sf_param_spec switch_specs[] = {
	{"verbose", SF_PT_BOOL, offsetof(demo_params, verbose), 0, 0, 1, 0, 0, NULL, NULL, "notices", 1},
	{"eta", SF_PT_DOUBLE, offsetof(demo_params, eta), 0.3, 0, 1, 1, 0, NULL, NULL, "learning rate"},
	{"seed", SF_PT_INT64, offsetof(demo_params, seed), 0, 0, 9.2e18, 0, 0, NULL, NULL, "seed"},
};
static const sf_param_table switch_table = {"switch_train", switch_specs, 3, NULL};

SF_TEST(test_transient)
{
	demo_params p;
	sf_buf		b;
	char		buf[64];

	sf_params_defaults(&switch_table, &p);
	SF_OK(sf_params_set_bool(&env, sf_params_find(&switch_table, "verbose", 7), &p, "verbose", 1) == SF_OK &&
		  p.verbose == 1, "a transient key is accepted and set");
	sf_buf_init(&b, &env);
	sf_params_to_json(&switch_table, &p, &b);
	sf_buf_put_u8(&b, 0);
	SF_OK(strcmp((char *) b.data, "{\"eta\": 0.3, \"seed\": 0}") == 0,
		  "canonical JSON leaves the transient key out (first entry too): %s", (char *) b.data);
	sf_buf_free(&b);
	sf_params_key_list(&switch_table, buf, sizeof(buf));
	SF_OK(strcmp(buf, "verbose, eta, seed") == 0, "the key list still names it: %s", buf);
}

int
main(void)
{
	sf_env_init_malloc(&env);
	SF_RUN(test_defaults_and_json);
	SF_RUN(test_setters);
	SF_RUN(test_key_list);
	SF_RUN(test_transient);
	return sf_test_done();
}
