/* SPDX-License-Identifier: GPL-2.0 */
/* abi.h -- the layout check between this binary and the Java side: the
 * `abi` command prints the offsets and sizes abi.c pins at compile time;
 * the same table, hashed, tells a kept program's maps from ours (progs.c).
 */
#ifndef WG_RELAY_HELPER_ABI_H
#define WG_RELAY_HELPER_ABI_H

#include <linux/types.h>
#include <stddef.h>

#define FNV1A64_SEED 0xcbf29ce484222325ull

/* FNV-1a 64: change detection, not security (the pins are root's alone). */
__u64 fnv1a64(__u64 h, const void *data, size_t n);

/* h extended by the `abi` table, as the command prints it. */
__u64 abi_hash_table(__u64 h);

void cmd_abi(int argc, char **argv);

#endif /* WG_RELAY_HELPER_ABI_H */
