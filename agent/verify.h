/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `hydrawatch verify`: farm alerts' evidence recomputed from the trace. */
#ifndef HW_VERIFY_H
#define HW_VERIFY_H

/* argv[0] is "verify"; returns the exit status */
int hw_verify_main(int argc, char **argv);

#endif
