/* Stockroom — levelled, printf-checked logging: one line per event on
 * standard error, never a secret. Only server/ logs. */
#ifndef STOCKROOM_LOG_H
#define STOCKROOM_LOG_H

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below level are dropped; set once at start-up. */
void log_set_level(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) LOG_FMT(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
