/*
 * unimplemented.c — routes that exist in Trove but not yet in ctrove. They
 * answer 501 with Trove's notImplemented body and change nothing, so a client
 * learns the truth instead of an empty success.
 */
#include "api/handlers.h"

API_HANDLER(not_implemented)
{
	(void)req;
	(void)resp;
	return ct_fail(err, 501, "This operation (%s %s) is not implemented in ctrove yet.",
		       req->method, req->path);
}
