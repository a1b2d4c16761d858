/*
 * manage.h — `ctrove manage <subcommand>`: what trove-manage does (schema,
 * datastores, versions, parameters, flavor and volume-type associations) plus
 * ctrove's own identity and flavor administration. Runs in the foreground
 * against [database] connection and prints one line per change.
 */
#ifndef CT_CMD_MANAGE_H
#define CT_CMD_MANAGE_H

int manage_main(int argc, char **argv);

#endif
