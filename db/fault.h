/* Stockroom — fault injection for tests: make the Nth SQLite step or the
 * Nth allocation in db/ fail, once. Built only with -DSTOCKROOM_FAULTS (the
 * sanitizer build); the normal build has none of it. */
#ifndef STOCKROOM_FAULT_H
#define STOCKROOM_FAULT_H

#ifdef STOCKROOM_FAULTS

enum db_fault_kind {
    DB_FAULT_STEP,  /* sqlite3_step or sqlite3_exec (never a ROLLBACK) */
    DB_FAULT_ALLOC, /* malloc/calloc/realloc/strdup in db/ and SQLite's own */
    DB_FAULT_KINDS
};

/* Make the nth call of kind from now on fail, once; 0 disarms. Every kind
 * counts on its own. Safe from any thread. */
void db_fault_arm(enum db_fault_kind kind, long nth);

/* 1 when the fault armed last for kind has fired, else 0. */
int db_fault_fired(enum db_fault_kind kind);

/* Arm from a spec such as "step:3" or "alloc:10,step:2" (unknown kinds are
 * ignored, so "blob:N" can share the variable). db_open calls this once with
 * the environment variable STOCKROOM_FAULT. */
void db_fault_arm_spec(const char *spec);

/* Arm from a spec as above for the calling thread only, until
 * db_fault_disarm_local: while armed, this thread counts on its own and
 * the process-wide counts are neither used nor changed. For a server
 * thread serving one request. */
void db_fault_arm_local(const char *spec);

/* End db_fault_arm_local; 1 when a fault fired on this thread meanwhile. */
int db_fault_disarm_local(void);

#endif
#endif
