/*
 * api.h — the calling side of the taskmanager's RPC API (Trove's
 * trove/taskmanager/api.py): every method is a cast, version 1.0, encrypted
 * with taskmanager_rpc_encr_key when secure messaging is on.
 */
#ifndef CT_TASKMANAGER_API_H
#define CT_TASKMANAGER_API_H

#include <jansson.h>

#include "common/error.h"

/* Cast method(args) to the taskmanager; args is borrowed. 503 when the bus is
 * down. */
int taskmanager_cast(const char *method, const json_t *args, struct ct_error *err);

#endif
