/* Stockroom — the test build's fault hooks (see fault.h). dbint.h routes
 * sqlite3_step, sqlite3_exec and the C allocator of every db/ file through
 * here; SQLite's own allocator is wrapped with SQLITE_CONFIG_MALLOC. */
#ifdef STOCKROOM_FAULTS
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbint.h"
#include "fault.h"

#undef sqlite3_step
#undef sqlite3_exec
#undef malloc
#undef calloc
#undef realloc
#undef strdup

/* Counts down to the failing call; 0 means disarmed. */
static atomic_long countdown[DB_FAULT_KINDS];
static atomic_int fired[DB_FAULT_KINDS];
static sqlite3_mem_methods sqlite_mem;

void
db_fault_arm(enum db_fault_kind kind, long nth)
{
    atomic_store(&fired[kind], 0);
    atomic_store(&countdown[kind], nth > 0 ? nth : 0);
}

int
db_fault_fired(enum db_fault_kind kind)
{
    return atomic_load(&fired[kind]);
}

/* 1 when this call is the one that must fail. */
/* Armed by db_fault_arm_local: this thread's own countdowns, which replace
 * the process-wide ones while armed, so that other threads (workers,
 * chores, other requests) neither take nor trigger the fault. */
static _Thread_local long local_countdown[DB_FAULT_KINDS];
static _Thread_local int local_armed;
static _Thread_local int local_fired;

static int
hit(enum db_fault_kind kind)
{
    long n;

    if (local_armed) {
        if (local_countdown[kind] > 0 && --local_countdown[kind] == 0) {
            local_fired = 1;
            return 1;
        }
        return 0;
    }
    n = atomic_load(&countdown[kind]);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&countdown[kind], &n, n - 1)) {
            if (n == 1) {
                atomic_store(&fired[kind], 1);
                return 1;
            }
            return 0;
        }
    }
    return 0;
}

/* Call set(kind, n) for each "kind:n" of spec; unknown kinds are skipped. */
static void
parse_spec(const char *spec, void (*set)(enum db_fault_kind, long))
{
    static const char *const names[DB_FAULT_KINDS] = {"step", "alloc"};
    const char *p = spec;

    while (p && *p) {
        for (int k = 0; k < DB_FAULT_KINDS; k++) {
            size_t len = strlen(names[k]);

            if (strncmp(p, names[k], len) == 0 && p[len] == ':')
                set((enum db_fault_kind)k, atol(p + len + 1));
        }
        p = strchr(p, ',');
        if (p)
            p++;
    }
}

void
db_fault_arm_spec(const char *spec)
{
    parse_spec(spec, db_fault_arm);
}

static void
set_local(enum db_fault_kind kind, long nth)
{
    local_countdown[kind] = nth > 0 ? nth : 0;
}

void
db_fault_arm_local(const char *spec)
{
    memset(local_countdown, 0, sizeof local_countdown);
    local_fired = 0;
    parse_spec(spec, set_local);
    local_armed = 1;
}

int
db_fault_disarm_local(void)
{
    int was = local_fired;

    local_armed = 0;
    local_fired = 0;
    return was;
}

int
db__fault_step(sqlite3_stmt *st)
{
    /* An autocommit write that has started (UPDATE ... RETURNING between
     * rows) commits when it is finalized, whatever a later step said: a
     * failure made up there would report an error for a committed change,
     * which no real disk can do. Such steps are not counted. */
    int midway = sqlite3_stmt_busy(st) && !sqlite3_stmt_readonly(st) &&
                 sqlite3_get_autocommit(sqlite3_db_handle(st));

    if (!midway && hit(DB_FAULT_STEP))
        return SQLITE_IOERR;
    return sqlite3_step(st);
}

int
db__fault_exec(sqlite3 *c, const char *sql,
               int (*cb)(void *, int, char **, char **), void *arg,
               char **errmsg)
{
    /* A failed ROLLBACK would hand a connection back with a transaction
     * still open: no real disk does that without failing everything. */
    if (strncasecmp(sql, "ROLLBACK", 8) != 0 && hit(DB_FAULT_STEP))
        return SQLITE_IOERR;
    return sqlite3_exec(c, sql, cb, arg, errmsg);
}

void *
db__fault_malloc(size_t n)
{
    return hit(DB_FAULT_ALLOC) ? NULL : malloc(n);
}

void *
db__fault_calloc(size_t n, size_t size)
{
    return hit(DB_FAULT_ALLOC) ? NULL : calloc(n, size);
}

void *
db__fault_realloc(void *p, size_t n)
{
    return hit(DB_FAULT_ALLOC) ? NULL : realloc(p, n);
}

char *
db__fault_strdup(const char *s)
{
    return hit(DB_FAULT_ALLOC) ? NULL : strdup(s);
}

static void *
sqlite_malloc(int n)
{
    return hit(DB_FAULT_ALLOC) ? NULL : sqlite_mem.xMalloc(n);
}

static void *
sqlite_realloc(void *p, int n)
{
    return hit(DB_FAULT_ALLOC) ? NULL : sqlite_mem.xRealloc(p, n);
}

void
db__fault_init(void)
{
    sqlite3_mem_methods m;

    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_mem) == SQLITE_OK) {
        m = sqlite_mem;
        m.xMalloc = sqlite_malloc;
        m.xRealloc = sqlite_realloc;
        sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
    }
    db_fault_arm_spec(getenv("STOCKROOM_FAULT"));
}
#endif
