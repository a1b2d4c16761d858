/*
 * api_notify.h — the API's side of Trove's dbaas.* notifications: the start of
 * an operation (dbaas.<event>.start, publisher api.<host>) with the request's
 * base traits (request id, project, client and server address). The end or
 * error comes from whoever finishes the work (src/taskmanager/notifications.c,
 * the conductor for backups). A one-line call in a handler once it has accepted
 * the request; never fails it. May not put anything from a request body in a
 * payload but the names and ids the caller passes (no password ever).
 */
#ifndef CT_API_API_NOTIFY_H
#define CT_API_API_NOTIFY_H

#include <jansson.h>

#include "api/request.h"

/* traits (may be NULL) are taken over. */
void api_notify_start(const struct api_request *req, const char *event, json_t *traits);

#endif
