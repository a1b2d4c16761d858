/*
 * cron.c — see cron.h. The parser works on a copy of one field at a time and
 * reports the first thing wrong with it; the search walks months, days, hours
 * and minutes in UTC with timegm(), so no time zone is ever consulted.
 */
#include "common/cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct field {
	const char *what;
	int min, max;
	const char *const *names; /* names[i] = value min + i; NULL = numbers only */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
					  "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const weekday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static const struct field fields[5] = {
	{"minute", 0, 59, NULL},
	{"hour", 0, 23, NULL},
	{"day-of-month", 1, 31, NULL},
	{"month", 1, 12, month_names},
	/* 7 is Sunday too (folded into bit 0 after parsing). */
	{"day-of-week", 0, 7, weekday_names},
};

static int bad(struct ct_error *err, const char *pattern, const char *fmt, const char *a,
	       const char *b)
{
	char reason[512];
	snprintf(reason, sizeof reason, fmt, a, b);
	return ct_fail(err, 400, "Invalid backup schedule pattern '%.255s': %s.", pattern, reason);
}

/* One value: a number or (for months and weekdays) a three-letter name. */
static int parse_value(const char *text, const struct field *f, int *out)
{
	if (isdigit((unsigned char)text[0])) {
		char *end;
		errno = 0;
		long v = strtol(text, &end, 10);
		if (*end || errno || v < f->min || v > f->max)
			return -1;
		*out = (int)v;
		return 0;
	}
	if (!f->names)
		return -1;
	int count = f == &fields[3] ? 12 : 7;
	for (int i = 0; i < count; i++)
		if (!strcasecmp(text, f->names[i])) {
			*out = f->min + i;
			return 0;
		}
	return -1;
}

/* One list item: '*', v, a-b, each optionally /step; "v/step" means v-max/step
 * (croniter). Sets bits in *bits. */
static int parse_item(char *item, const struct field *f, uint64_t *bits, const char *pattern,
		      struct ct_error *err)
{
	int step = 1;
	char *slash = strchr(item, '/');
	if (slash) {
		*slash = '\0';
		char *end;
		errno = 0;
		long s = strtol(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end || errno || s < 1 || s > f->max + 1)
			return bad(
				err, pattern,
				"the step '%s' in the %s field is not a positive number in range",
				slash + 1, f->what);
		step = (int)s;
	}
	int lo, hi;
	if (!strcmp(item, "*")) {
		lo = f->min;
		hi = f->max;
	} else {
		char *dash = strchr(item, '-');
		if (dash)
			*dash = '\0';
		if (!*item || parse_value(item, f, &lo))
			return bad(err, pattern, "'%s' is not a valid %s", item, f->what);
		hi = slash ? f->max : lo;
		if (dash && (!dash[1] || parse_value(dash + 1, f, &hi)))
			return bad(err, pattern, "'%s' is not a valid %s", dash + 1, f->what);
		if (hi < lo) {
			char range[64];
			snprintf(range, sizeof range, "%d-%d", lo, hi);
			return bad(err, pattern, "the range %s in the %s field is backwards", range,
				   f->what);
		}
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << v;
	return 0;
}

static int parse_field(const char *text, const struct field *f, uint64_t *bits, const char *pattern,
		       struct ct_error *err)
{
	char copy[CRON_PATTERN_MAX + 1];
	snprintf(copy, sizeof copy, "%s", text);
	*bits = 0;
	char *save = NULL;
	size_t len = strlen(copy);
	if (len == 0 || copy[0] == ',' || copy[len - 1] == ',' || strstr(copy, ",,"))
		return bad(err, pattern, "the %s field '%s' has an empty list item", f->what, text);
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
		if (parse_item(item, f, bits, pattern, err))
			return -1;
	return 0;
}

static const struct {
	const char *name, *pattern;
} aliases[] = {
	{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
	{"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
	{"@hourly", "0 * * * *"},
};

int cron_parse(const char *pattern, struct cron_spec *out, struct ct_error *err)
{
	memset(out, 0, sizeof *out);
	if (!pattern || !*pattern)
		return ct_fail(err, 400, "Invalid backup schedule pattern '': it is empty.");
	if (strlen(pattern) > CRON_PATTERN_MAX)
		return ct_fail(err, 400,
			       "Invalid backup schedule pattern: it is longer than %d characters.",
			       CRON_PATTERN_MAX);
	const char *text = pattern;
	if (pattern[0] == '@') {
		text = NULL;
		for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
			if (!strcasecmp(pattern, aliases[i].name))
				text = aliases[i].pattern;
		if (!text)
			return bad(err, pattern,
				   "'%s' is not one of @yearly, @annually, @monthly, @weekly, "
				   "@daily, @midnight, @hourly%s",
				   pattern, "");
	}
	char copy[CRON_PATTERN_MAX + 1];
	snprintf(copy, sizeof copy, "%s", text);
	char *parts[6];
	int n = 0;
	char *save = NULL;
	for (char *p = strtok_r(copy, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
		if (n == 5) {
			n++;
			break;
		}
		parts[n++] = p;
	}
	if (n != 5) {
		char got[16];
		snprintf(got, sizeof got, "%s%d", n > 5 ? "more than " : "", n > 5 ? 5 : n);
		return bad(err, pattern,
			   "a pattern has 5 fields (minute hour day-of-month month day-of-week), "
			   "this one has %s%s",
			   got, "");
	}
	uint64_t bits[5];
	for (int i = 0; i < 5; i++) {
		for (const char *c = parts[i]; *c; c++)
			if (!isalnum((unsigned char)*c) && !strchr("*,-/", *c)) {
				char ch[2] = {*c, 0};
				return bad(err, pattern,
					   "the character '%s' is not allowed in the %s field", ch,
					   fields[i].what);
			}
		if (parse_field(parts[i], &fields[i], &bits[i], pattern, err))
			return -1;
	}
	out->minutes = bits[0];
	out->hours = (uint32_t)bits[1];
	out->days = (uint32_t)bits[2];
	out->months = (uint16_t)bits[3];
	out->weekdays = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f);
	out->days_star = parts[2][0] == '*';
	out->weekdays_star = parts[4][0] == '*';
	return 0;
}

static bool day_matches(const struct cron_spec *c, const struct tm *tm)
{
	bool dom = c->days >> tm->tm_mday & 1, dow = c->weekdays >> tm->tm_wday & 1;
	if (c->days_star || c->weekdays_star)
		return dom && dow;
	return dom || dow;
}

bool cron_matches(const struct cron_spec *c, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	return (c->months >> (tm.tm_mon + 1) & 1) && day_matches(c, &tm) &&
	       (c->hours >> tm.tm_hour & 1) && (c->minutes >> tm.tm_min & 1);
}

static void normalize(struct tm *tm)
{
	time_t t = timegm(tm);
	gmtime_r(&t, tm);
}

time_t cron_next(const struct cron_spec *c, time_t after)
{
	time_t t = after - (after % 60 + 60) % 60 + 60;
	struct tm tm;
	gmtime_r(&t, &tm);
	int last_year = tm.tm_year + 5;
	while (tm.tm_year <= last_year) {
		if (!(c->months >> (tm.tm_mon + 1) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!day_matches(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!(c->hours >> tm.tm_hour & 1)) {
			tm.tm_hour++;
			tm.tm_min = 0;
		} else if (!(c->minutes >> tm.tm_min & 1)) {
			tm.tm_min++;
		} else {
			return timegm(&tm);
		}
		normalize(&tm);
	}
	return -1;
}
