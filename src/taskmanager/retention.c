/*
 * retention.c — the pure chain logic of retention.h. Quadratic in the backups
 * of one instance, which are few (a schedule's retention bounds them).
 */
#include "taskmanager/retention.h"

#include <stdlib.h>
#include <string.h>

static int newest_first(const struct retention_backup *b, size_t i, size_t j)
{
	if (b[i].created != b[j].created)
		return b[i].created > b[j].created ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Expire by count and age what one schedule made: walk its backups newest
 * first by picking the next newest each time (no allocation). */
static void expire_for(struct retention_backup *b, size_t n, const struct retention_policy *p,
		       long long now)
{
	long completed = 0;
	size_t prev = (size_t)-1;
	for (size_t step = 0; step < n; step++) {
		size_t best = (size_t)-1;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(b[i].schedule_id, p->schedule_id))
				continue;
			if (prev != (size_t)-1 && newest_first(b, i, prev) <= 0)
				continue; /* at or before the previous one in the walk */
			if (best == (size_t)-1 || newest_first(b, i, best) < 0)
				best = i;
		}
		if (best == (size_t)-1)
			break;
		prev = best;
		struct retention_backup *x = &b[best];
		bool too_old = p->max_age_days > 0 && now - x->created > p->max_age_days * 86400LL;
		switch (x->state) {
		case RETENTION_RUNNING: break;
		case RETENTION_COMPLETED:
			completed++;
			x->expired = too_old || (p->max_count > 0 && completed > p->max_count);
			break;
		case RETENTION_FAILED:
			/* A failed run serves nothing once a newer one succeeded. */
			x->expired = too_old || completed > 0;
			break;
		}
	}
}

static size_t index_of(const struct retention_backup *b, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(b[i].id, id))
			return i;
	return (size_t)-1;
}

/* Mark i and its ancestors needed; a chain that loops still ends. */
static void need_chain(const struct retention_backup *b, size_t n, bool *needed, size_t i)
{
	for (size_t hops = 0; i != (size_t)-1 && hops <= n; hops++) {
		needed[i] = true;
		i = b[i].parent_id[0] ? index_of(b, n, b[i].parent_id) : (size_t)-1;
	}
}

long long retention_plan(struct retention_backup *b, size_t n, const struct retention_policy *p,
			 size_t np, long long now, bool has_archive)
{
	for (size_t i = 0; i < n; i++)
		b[i].expired = b[i].remove = false;
	for (size_t k = 0; k < np; k++)
		expire_for(b, n, &p[k], now);
	bool *needed = calloc(n ? n : 1, sizeof *needed);
	if (!needed) {
		/* Keep everything: deleting nothing is always safe. */
		for (size_t i = 0; i < n; i++)
			b[i].expired = false;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!b[i].expired)
			need_chain(b, n, needed, i);
	if (has_archive) {
		size_t newest_full = (size_t)-1;
		for (size_t i = 0; i < n; i++)
			if (b[i].state == RETENTION_COMPLETED && !b[i].parent_id[0] &&
			    (newest_full == (size_t)-1 || newest_first(b, i, newest_full) < 0))
				newest_full = i;
		if (newest_full != (size_t)-1)
			needed[newest_full] = true;
	}
	long long cutoff = -1;
	for (size_t i = 0; i < n; i++) {
		b[i].remove = b[i].expired && !needed[i];
		if (!b[i].remove && b[i].state == RETENTION_COMPLETED &&
		    (cutoff < 0 || b[i].consistent_time < cutoff))
			cutoff = b[i].consistent_time;
	}
	free(needed);
	return cutoff;
}
