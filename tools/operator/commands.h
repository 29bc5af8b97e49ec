/* The subcommands of memsync-operator. Each takes the arguments after its
 * name and returns an OP_EXIT_* code (exitcodes.h). */
#ifndef MS_OPERATOR_COMMANDS_H
#define MS_OPERATOR_COMMANDS_H

int cmd_status(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_prove(int argc, char **argv);
int cmd_verify_proof(int argc, char **argv);
int cmd_snapshot_export(int argc, char **argv);
int cmd_snapshot_import(int argc, char **argv);
int cmd_vectors(int argc, char **argv);
int cmd_config_check(int argc, char **argv);

#define OP_DEFAULT_MODULE "build/libmemsync.so"

#endif
