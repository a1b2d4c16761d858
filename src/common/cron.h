/*
 * cron.h — 5-field cron patterns as Vixie cron and croniter (Trove's Mistral
 * schedules) take them: minute hour day-of-month month day-of-week; numbers,
 * '*', ranges, steps, lists, month and day names, 7 = Sunday, and the @hourly
 * family. Times are UTC (no DST). Pure: owns nothing, may not read the clock,
 * log or touch the database.
 */
#ifndef CT_COMMON_CRON_H
#define CT_COMMON_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"

#define CRON_PATTERN_MAX 255

struct cron_spec {
	uint64_t minutes; /* bit n = minute n */
	uint32_t hours;
	uint32_t days;	  /* bit n = day of month n (1..31) */
	uint16_t months;  /* bit n = month n (1..12) */
	uint8_t weekdays; /* bit n = weekday n (0 = Sunday) */
	/* Cron's rule: when both day fields are restricted a day matches
	 * either; when one starts with '*' both must match. */
	bool days_star, weekdays_star;
};

/* Parse pattern; 400 "Invalid backup schedule pattern '...': <reason>." */
int cron_parse(const char *pattern, struct cron_spec *out, struct ct_error *err);

/* Whether the minute holding t matches. */
bool cron_matches(const struct cron_spec *c, time_t t);

/* The first matching minute strictly after `after` (a whole minute, UTC), or
 * -1 when none comes within five years (e.g. "0 0 30 2 *"). */
time_t cron_next(const struct cron_spec *c, time_t after);

#endif
