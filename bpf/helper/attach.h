/* SPDX-License-Identifier: GPL-2.0 */
/* attach.h -- where the program runs. attach.c owns the table of NICs this
 * helper attached and whether they stay attached after it; no other stage
 * sees either, they only ask for the end (attach_exit).
 */
#ifndef WG_RELAY_HELPER_ATTACH_H
#define WG_RELAY_HELPER_ATTACH_H

/* Before any other call, as it marks every slot free (a zeroed slot would
 * hold fd 0). The NICs run progs_current()'s program. */
void attach_init(void);

/* The end of the helper: detaches every NIC this helper attached and removes
 * their pins -- or, after `onexit keep`, leaves them attached and pinned. */
void attach_exit(void);

void cmd_attach(int argc, char **argv);
void cmd_detach(int argc, char **argv);
void cmd_onexit(int argc, char **argv);

#endif /* WG_RELAY_HELPER_ATTACH_H */
