/* Stockroom — credit balances (until the ledger lands: none). */
#include "app.h"

int
app_credits(struct app *app, const char *user_id, int64_t *credits)
{
    (void)app;
    (void)user_id;
    *credits = 0;
    return 0;
}
