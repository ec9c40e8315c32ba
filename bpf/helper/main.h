/* SPDX-License-Identifier: GPL-2.0 */
/* main.h -- the process's lifetime, for the stages that end it: main.c alone
 * decides how the process stops, whether it never got going (fatal) or is
 * told to go (shutdown_and_exit).
 */
#ifndef WG_RELAY_HELPER_MAIN_H
#define WG_RELAY_HELPER_MAIN_H

/* Before the first command: the only stdout line is `fatal <reason>`, exit 1. */
__attribute__((format(printf, 1, 2), noreturn)) void fatal(const char *fmt, ...);

/* Detaches every NIC (or, after `onexit keep`, leaves them to their pins),
 * closes the program, exits with code: once the process is gone no NIC runs
 * the program, unless it was to be kept. */
__attribute__((noreturn)) void shutdown_and_exit(int code);

void cmd_ping(int argc, char **argv);

#endif /* WG_RELAY_HELPER_MAIN_H */
