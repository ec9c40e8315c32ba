/* SPDX-License-Identifier: GPL-2.0 */
/* abi.h -- the layout check between this binary and the Java side: the
 * `abi` command prints the offsets and sizes abi.c pins at compile time.
 */
#ifndef WG_RELAY_HELPER_ABI_H
#define WG_RELAY_HELPER_ABI_H

void cmd_abi(int argc, char **argv);

#endif /* WG_RELAY_HELPER_ABI_H */
