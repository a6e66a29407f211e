/* Stockroom — staff tools: checking the books. */
#include <stdlib.h>

#include "app.h"
#include "ledger.h"

void
admin_ledger_verify(struct srv_req *r)
{
    char err[DB_ERR_LEN];
    char *report = NULL;
    int rc = ledger_verify(srv_req_app(r)->db, &report, err);

    if (rc != DB_ECONFLICT && srv_reply_db(r, rc, err, "ledger check") < 0)
        return;
    srv_json(r, 200,
             json_pack("{s:b,s:s}", "ok", rc == DB_OK, "report",
                       report ? report : ""));
    free(report);
}
