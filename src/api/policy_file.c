/*
 * policy_file.c — the policy file reader (policy_file.h), over libyaml's event
 * parser. The whole file is read into memory first (bounded), so the parser
 * never blocks on I/O and a huge file is refused before parsing.
 * May not interpret check strings.
 */
#include "api/policy_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Names and check strings are short; a name longer than this is a mistake. */
#define MAX_NAME 255

static char *read_bounded(const char *path, size_t *len, struct ct_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			ct_fail(err, 404, "policy file %s does not exist", path);
		else
			ct_fail(err, 400, "cannot read policy file %s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(POLICY_FILE_MAX_BYTES + 1);
	size_t n = buf ? fread(buf, 1, POLICY_FILE_MAX_BYTES + 1, f) : 0;
	bool bad = buf && ferror(f);
	fclose(f);
	if (!buf) {
		ct_fail(err, 500, "out of memory reading policy file %s", path);
		return NULL;
	}
	if (bad || n > POLICY_FILE_MAX_BYTES) {
		free(buf);
		ct_fail(err, 400,
			bad ? "cannot read policy file %s" : "policy file %s is over 1 MiB", path);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int line_of(const yaml_event_t *ev)
{
	return (int)ev->start_mark.line + 1;
}

static int refuse(const char *path, const yaml_event_t *ev, const char *what, struct ct_error *err)
{
	return ct_fail(err, 400, "%s:%d: %s", path, line_of(ev), what);
}

/* The event's scalar as text; a plain `~`/`null`/empty value reads as "". */
static const char *scalar_text(const yaml_event_t *ev)
{
	const char *value = (const char *)ev->data.scalar.value;
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!strcmp(value, "~") || !strcmp(value, "null") || !strcmp(value, "Null") ||
	     !strcmp(value, "NULL")))
		return "";
	return value;
}

struct seen {
	char **names;
	int count;
};

static bool seen_before(struct seen *s, const char *name)
{
	for (int i = 0; i < s->count; i++)
		if (!strcmp(s->names[i], name))
			return true;
	return false;
}

enum state { WANT_STREAM, WANT_DOCUMENT, WANT_MAPPING, WANT_KEY, WANT_VALUE, WANT_DOC_END, DONE };

int policy_file_read(const char *path, policy_file_rule each, void *ctx, struct ct_error *err)
{
	size_t len = 0;
	char *text = read_bounded(path, &len, err);
	if (!text)
		return -1;
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		free(text);
		return ct_fail(err, 500, "cannot start the YAML parser");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	struct seen seen = {calloc(POLICY_FILE_MAX_RULES, sizeof(char *)), 0};
	char name[MAX_NAME + 1] = "";
	int name_line = 0;
	enum state state = WANT_STREAM;
	int rc = seen.names ? 0 : ct_fail(err, 500, "out of memory reading %s", path);
	while (rc == 0 && state != DONE) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = ct_fail(err, 400, "%s:%d: %s", path, (int)parser.problem_mark.line + 1,
				     parser.problem ? parser.problem : "not valid YAML");
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_START_EVENT: state = WANT_DOCUMENT; break;
		case YAML_STREAM_END_EVENT: state = DONE; break;
		case YAML_DOCUMENT_START_EVENT:
			if (state != WANT_DOCUMENT)
				rc = refuse(path, &ev, "only one YAML document is allowed", err);
			state = WANT_MAPPING;
			break;
		case YAML_DOCUMENT_END_EVENT: state = WANT_DOC_END; break;
		case YAML_MAPPING_START_EVENT:
			if (state != WANT_MAPPING)
				rc = refuse(path, &ev,
					    "a rule's value must be a check string, not a mapping",
					    err);
			state = WANT_KEY;
			break;
		case YAML_MAPPING_END_EVENT: state = WANT_DOC_END; break;
		case YAML_SEQUENCE_START_EVENT:
			rc = refuse(path, &ev,
				    state == WANT_VALUE
					    ? "a rule's value must be a check string, not a list"
					    : "the policy file must be a mapping of rule names to "
					      "check strings",
				    err);
			break;
		case YAML_ALIAS_EVENT:
			rc = refuse(path, &ev, "YAML aliases are not allowed in a policy file",
				    err);
			break;
		case YAML_SCALAR_EVENT:
			if (ev.data.scalar.anchor) {
				rc = refuse(path, &ev,
					    "YAML anchors are not allowed in a policy file", err);
			} else if (state == WANT_MAPPING) {
				/* An empty document (only comments) is an empty policy. */
				if (*scalar_text(&ev))
					rc = refuse(path, &ev,
						    "the policy file must be a mapping of rule "
						    "names to check strings",
						    err);
				state = WANT_DOC_END;
			} else if (state == WANT_KEY) {
				const char *key = (const char *)ev.data.scalar.value;
				if (!*key || strlen(key) > MAX_NAME)
					rc = refuse(path, &ev,
						    "a rule name must have 1 to 255 characters",
						    err);
				else if (seen_before(&seen, key))
					rc = refuse(path, &ev, "this rule is defined twice", err);
				else if (seen.count == POLICY_FILE_MAX_RULES)
					rc = refuse(path, &ev, "more than 4096 rules", err);
				else if (!(seen.names[seen.count] = strdup(key)))
					rc = ct_fail(err, 500, "out of memory reading %s", path);
				else {
					seen.count++;
					snprintf(name, sizeof name, "%s", key);
					name_line = line_of(&ev);
					state = WANT_VALUE;
				}
			} else if (state == WANT_VALUE) {
				struct ct_error rule_err = {0};
				if (each(ctx, name, scalar_text(&ev), name_line, &rule_err))
					rc = ct_fail(err, rule_err.status ? rule_err.status : 400,
						     "%s:%d: %s: %s", path, name_line, name,
						     rule_err.message);
				state = WANT_KEY;
			} else {
				rc = refuse(path, &ev, "unexpected text after the rules", err);
			}
			break;
		default: break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	for (int i = 0; i < seen.count; i++)
		free(seen.names[i]);
	free(seen.names);
	free(text);
	return rc;
}
