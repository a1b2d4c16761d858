/*
 * timefmt.c — see timefmt.h.
 */
#include "common/timefmt.h"

#include <stdio.h>
#include <string.h>

static void fmt(time_t t, const char *pattern, char out[CT_TIME_LEN])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, CT_TIME_LEN, pattern, &tm);
}

void timefmt_trove(time_t t, char out[CT_TIME_LEN])
{
	fmt(t, "%Y-%m-%dT%H:%M:%S", out);
}

void timefmt_zulu(time_t t, char out[CT_TIME_LEN])
{
	fmt(t, "%Y-%m-%dT%H:%M:%SZ", out);
}

void timefmt_keystone(time_t t, char out[CT_TIME_LEN])
{
	fmt(t, "%Y-%m-%dT%H:%M:%S.000000Z", out);
}

void timefmt_db_now(char out[CT_TIME_LEN])
{
	fmt(time(NULL), "%Y-%m-%d %H:%M:%S", out);
}

void timefmt_db_to_trove(const char *db, char out[CT_TIME_LEN])
{
	out[0] = '\0';
	if (!db || strlen(db) < 19)
		return;
	memcpy(out, db, 19);
	out[10] = 'T';
	out[19] = '\0';
}
