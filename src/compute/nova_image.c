/*
 * nova_image.c — which Glance image an instance boots (nova_internal.h): the
 * datastore version's image id when it has one, else — as Trove does — the
 * newest active image carrying every one of the version's tags.
 *
 * Owns nothing; may only read Glance.
 */
#include <stdio.h>
#include <string.h>

#include "compute/nova_internal.h"

static int copy_id(const char *id, char out[NOVA_ID_MAX], struct ct_error *err)
{
	if (!id || !*id || strlen(id) >= NOVA_ID_MAX)
		return ct_fail(err, 500, "Glance answered an image without a usable id.");
	snprintf(out, NOVA_ID_MAX, "%s", id);
	return 0;
}

static int by_id(const char *image_id, char out[NOVA_ID_MAX], struct ct_error *err)
{
	char path[256];
	if (strlen(image_id) >= NOVA_ID_MAX || strchr(image_id, '/') || strchr(image_id, '?'))
		return ct_fail(err, 400, "Image %s cannot be found.", image_id);
	snprintf(path, sizeof path, "/v2/images/%s", image_id);
	json_t *image;
	struct ct_error lookup = {0};
	if (nova_call("image", "GET", path, NULL, "showing an image", NULL, NULL, &image,
		      &lookup)) {
		if (lookup.status == 404)
			return ct_fail(err, 404, "Image %s cannot be found.", image_id);
		*err = lookup;
		return -1;
	}
	const char *status = json_string_value(json_object_get(image, "status"));
	int rc = status && !strcmp(status, "active")
			 ? copy_id(image_id, out, err)
			 : ct_fail(err, 400, "Image %s is %s, not active.", image_id,
				   status ? status : "in no state");
	json_decref(image);
	return rc;
}

/* "tag=a&tag=b" of "a,b" (spaces around tags ignored); 0 tags is an error. */
static int tag_query(const char *tags, char *out, size_t len, struct ct_error *err)
{
	size_t used = 0, count = 0;
	const char *p = tags;
	out[0] = '\0';
	while (p && *p) {
		size_t n = strcspn(p, ",");
		const char *t = p;
		size_t tn = n;
		while (tn && *t == ' ') {
			t++;
			tn--;
		}
		while (tn && t[tn - 1] == ' ')
			tn--;
		for (size_t i = 0; i < tn; i++)
			if (!(t[i] == '-' || t[i] == '_' || t[i] == '.' ||
			      (t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'z') ||
			      (t[i] >= 'A' && t[i] <= 'Z')))
				return ct_fail(err, 400, "Image tag '%.*s' is not valid.", (int)tn,
					       t);
		if (tn) {
			int w = snprintf(out + used, len - used, "%stag=%.*s", count ? "&" : "",
					 (int)tn, t);
			if (w < 0 || (size_t)w >= len - used)
				return ct_fail(err, 400, "The image tags are too long.");
			used += (size_t)w;
			count++;
		}
		p += n + (p[n] == ',');
	}
	if (!count)
		return ct_fail(err, 400,
			       "The datastore version has neither an image nor image tags.");
	return 0;
}

int nova_image_resolve(const char *image_id, const char *tags, char out[NOVA_ID_MAX],
		       struct ct_error *err)
{
	if (image_id && *image_id)
		return by_id(image_id, out, err);
	char query[1024], path[1200];
	if (tag_query(tags, query, sizeof query, err))
		return -1;
	/* Glance ANDs repeated tag filters; newest first, as Trove picks. */
	snprintf(path, sizeof path, "/v2/images?%s&status=active&sort=created_at:desc&limit=1",
		 query);
	json_t *images = nova_list("image", path, "images", "listing images by tag", err);
	if (!images)
		return -1;
	int rc = json_array_size(images)
			 ? copy_id(json_string_value(
					   json_object_get(json_array_get(images, 0), "id")),
				   out, err)
			 : ct_fail(err, 404, "No active image has the tags %s.", tags);
	json_decref(images);
	return rc;
}
