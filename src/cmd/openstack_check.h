/*
 * openstack_check.h — `ctrove openstack-check` (openstack_check.c).
 */
#ifndef CT_CMD_OPENSTACK_CHECK_H
#define CT_CMD_OPENSTACK_CHECK_H

/* 0 when [service_credentials] authenticate; prints JSON or `error: ...`. */
int openstack_check_main(void);

#endif
