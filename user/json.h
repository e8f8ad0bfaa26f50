/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small JSON writer: objects, arrays, keys, numbers and escaped strings,
 * written compactly as they come, with the commas and the nesting kept
 * here.  @key is NULL for an array's element or the outermost value.
 */
#ifndef SYNGUARD_JSON_H
#define SYNGUARD_JSON_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#define JSON_DEPTH_MAX 16

struct json {
	FILE *f;
	int depth;
	bool more[JSON_DEPTH_MAX];	/* a value was written at this depth */
};

void json_init(struct json *j, FILE *f);
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_u64(struct json *j, const char *key, __u64 v);
/* Three decimals: rates, seconds, baselines. */
void json_double(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);
void json_string(struct json *j, const char *key, const char *s);
void json_null(struct json *j, const char *key);
/* @s as a JSON string, quoted and escaped, on its own. */
void json_str(FILE *f, const char *s);

#endif
