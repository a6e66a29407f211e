/* Stockroom — the double-entry ledger (placeholder schema until written). */
#include "dbint.h"

const char db_schema_ledger[] = "SELECT 1;";
