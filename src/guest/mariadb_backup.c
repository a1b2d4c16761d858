/* mariadb_backup.c — placeholder */
#include "guest/mariadb_internal.h"
