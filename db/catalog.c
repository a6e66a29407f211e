/* Stockroom — the catalogue (placeholder schema until written). */
#include "dbint.h"

const char db_schema_catalog[] = "SELECT 1;";
